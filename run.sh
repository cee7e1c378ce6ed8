#!/usr/bin/env bash
# CTAS quick start (see README.md):
#   ./run.sh app    set up .venv and serve the app on http://localhost:8501 (embedded warehouse, sample data)
#   ./run.sh test   set up .venv with the test tools, install Debian's chromium and redis-server if missing,
#                   lint, run every test (extra arguments: one pytest run with them)
set -euo pipefail
cd "$(dirname "$0")"
VENV="${CTAS_VENV:-.venv}"

say() { printf '\033[1m[ctas]\033[0m %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        say "need root for: $*"; exit 1; fi
}

python311() {
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"; return
        fi
    done
    say "CTAS needs Python 3.11 on PATH (python3.11 or python3)."; exit 1
}

make_venv() {
    [ -x "$VENV/bin/python" ] && return
    local python; python="$(python311)"
    say "creating $VENV with $("$python" --version)"
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        if command -v apt-get >/dev/null; then
            say "installing Debian's python3-venv"
            as_root apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-venv >/dev/null ||
                as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            "$python" -m venv "$VENV"
        else
            say "$python cannot create a virtual environment: install its venv module"; exit 1
        fi
    fi
}

install() {  # $1: requirements file; reinstalls only when a requirements file changed
    make_venv
    local stamp
    stamp="$VENV/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$(basename "$1")"
    if [ ! -f "$stamp" ]; then
        say "installing $1 into $VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$1"
        touch "$stamp"
    fi
}

chromium() {
    [ -x /usr/bin/chromium ] && return
    say "installing Debian's chromium for the browser tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

redis() {  # the behaviour monitor's Redis feed is tested against a real server (tests start their own)
    command -v redis-server >/dev/null && return
    say "installing Debian's redis-server for the behaviour feed tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
}

valgrind_tool() {  # the extractor's linear-time test counts instructions with cachegrind (deterministic, not time)
    command -v valgrind >/dev/null && return
    say "installing Debian's valgrind for the linear-time test"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}

fbas_oracle() {  # the stellarbeat WASM scanner, a test oracle only (tests/fbas_oracle)
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        say "installing Debian's nodejs and npm for the FBAS test oracle"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    fi
    local folder=tests/fbas_oracle stamp=tests/fbas_oracle/node_modules/.ctas-installed
    if [ ! -f "$stamp" ] || [ "$folder/package-lock.json" -nt "$stamp" ]; then
        say "installing the FBAS test oracle (npm ci)"
        (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error)
        touch "$stamp"
    fi
}

case "${1:-}" in
    app)
        install requirements.txt
        say "serving CTAS on http://localhost:${CTAS_PORT:-8501}"
        exec "$VENV/bin/python" -m streamlit run app.py --server.port "${CTAS_PORT:-8501}"
        ;;
    test)
        install requirements-test.txt
        chromium
        redis
        valgrind_tool
        fbas_oracle
        say "ruff"
        "$VENV/bin/ruff" check .
        "$VENV/bin/ruff" format --check .
        if [ $# -gt 1 ]; then
            say "pytest ${*:2}"
            exec "$VENV/bin/python" -m pytest "${@:2}"
        fi
        # Every test: the unit, property and page tests on two workers, then the browser tests on their own (a page
        # under test needs the CPU it is waited on with). Both run; either failing fails the run.
        status=0
        say "pytest: all but the browser tests, two workers"
        "$VENV/bin/python" -m pytest -n 2 -m "not e2e" || status=$?
        [ "$status" -eq 2 ] && exit 2  # interrupted (or a usage error): no browser tests
        say "pytest: the browser tests"
        "$VENV/bin/python" -m pytest -m e2e || status=$?
        exit "$status"
        ;;
    *)
        echo "usage: ./run.sh app | ./run.sh test [pytest arguments]" >&2
        exit 2
        ;;
esac
