"""The sample datasets shipped in data/samples, loaded into a new warehouse on its first run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.warehouse import Warehouse

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "samples"
LOADED_KEY = "samples_loaded"


@dataclass(frozen=True)
class Sample:
    """One shipped CSV file and the dataset name it gets."""

    name: str
    file_name: str
    description: str

    @property
    def path(self) -> Path:
        return SAMPLES_DIR / self.file_name


SAMPLES = (
    Sample(
        name="honeypot_events_2013",
        file_name="honeypot_events_2013.csv",
        description="21,059 real attacks on 9 AWS honeypots, March–June 2013, with GeoIP source locations",
    ),
    Sample(
        name="german_credit_risk",
        file_name="german_credit_risk.csv",
        description="1,000 real credit applicants (UCI Statlog German credit), good or bad risk: for AutoML",
    ),
)


def load_samples(warehouse: Warehouse) -> list[str]:
    """Ingest every sample this warehouse has never had; return the names loaded now.

    Each sample is loaded once per warehouse (the names are recorded in `meta`), so a sample the analyst deletes
    does not come back, and a sample added in a later CTAS version arrives in existing warehouses too.
    """
    recorded = warehouse.get_meta(LOADED_KEY)
    done = set(recorded.split(",")) if recorded else set()
    existing = {d.name for d in warehouse.list_datasets()}
    loaded = []
    for sample in SAMPLES:
        if sample.name not in done and sample.name not in existing:
            warehouse.ingest_csv(sample.path, sample.name, original_filename=sample.file_name)
            loaded.append(sample.name)
    if done != {s.name for s in SAMPLES}:
        warehouse.set_meta(LOADED_KEY, ",".join(sorted(done | {s.name for s in SAMPLES})))
    return loaded
