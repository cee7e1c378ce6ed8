# CTAS in a container: docker build -t ctas . && docker run -p 8501:8501 -v ctas-data:/var/lib/ctas ctas
# (docker compose up: the app with a Dask scheduler and two workers from this same image; PYTHONPATH lets the
# scheduler and workers import CTAS's task functions)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CTAS_WAREHOUSE=/var/lib/ctas/ctas.duckdb \
    PYTHONPATH=/app

# Chromium renders PNG exports of figures (kaleido drives the system browser).
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 ctas \
    && mkdir -p /var/lib/ctas /var/lib/ctas-shared \
    && chown ctas:ctas /var/lib/ctas /var/lib/ctas-shared

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=ctas:ctas . .

USER ctas
VOLUME ["/var/lib/ctas"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
