"""Benchmark: our FBAS scan against stellarbeat's WASM scanner, on every dev snapshot, in the same run.

    python bench/fbas.py [--repeats 3] [--snapshots NAME,...] [--synthetic | --compare]

Both sides run as fresh processes on the same file with all four groupings (node, organization, country, ISP),
stellarbeat's preprocessing and faulty rule, and the same analyses (stellarbeat's full scan): minimal quorums and
intersection, minimal blocking sets, minimal splitting sets, top tier, symmetric top tier. Prints one JSON line per
snapshot: median scan times inside each process (after each side's start-up), median wall times, and ratios.

With --compare: both sides' results per snapshot and grouping (intersection, minimal quorums, top tier, counts and
smallest sizes of the blocking and splitting sets), one JSON line each with "agree".

With --synthetic: almost-symmetric networks of 6 to 16 organizations (3 validators each, 3 random deletions), once
each with a 10 s limit per side; ours answers quorum intersection and the smallest blocking and splitting sets
(listing every set while that fits, the smallest ones otherwise); the WASM scanner runs its full scan.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "fbas"
ORACLE = REPO / "tests" / "fbas_oracle" / "scan.js"
ORGANIZATIONS = {
    "fbas_analyzer/stellarbeat_nodes_2019-09-17.json": "fbas_analyzer/stellarbeat_organizations_2019-09-17.json",
    "python-fbas/network-2025-01-03.json": "python-fbas/organizations-2025-01-03.json",
    "nodejs_fbas_analyzer/nodes.json": "nodejs_fbas_analyzer/organizations.json",
}


def ours(name: str) -> tuple[float, float]:
    """(scan ms inside the process, wall ms) for `python -m core.fbas analyze`."""
    command = [sys.executable, "-m", "core.fbas", "analyze", str(DATA / name), "--stellarbeat-parity"]
    command += ["--merge-by", "node,organization,country,isp", "--max-sets", "0", "--timeout", "600", "--json"]
    if name in ORGANIZATIONS:
        command += ["--organizations", str(DATA / ORGANIZATIONS[name])]
    began = time.perf_counter()
    output = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout
    wall = (time.perf_counter() - began) * 1000
    return json.loads(output)["elapsed_ms"]["total"], wall


def wasm(name: str) -> tuple[float, float]:
    """(scan ms inside the process, wall ms) for the WASM scanner."""
    command = ["node", str(ORACLE), str(DATA / name)]
    if name in ORGANIZATIONS:
        command.append(str(DATA / ORGANIZATIONS[name]))
    began = time.perf_counter()
    output = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout
    wall = (time.perf_counter() - began) * 1000
    return json.loads(output)["elapsed_ms"], wall


def synthetic_case(organizations: int, folder: Path, limit: float = 10.0) -> dict:
    """One synthetic network: both sides within `limit` seconds, answers compared where both have them."""
    sys.path.insert(0, str(REPO))
    from core.fbas.synthetic import almost_symmetric

    path = folder / f"synthetic-{organizations}.json"
    path.write_text(json.dumps(almost_symmetric(organizations, deletions=3, seed=organizations)))
    figures: dict = {"bench": "fbas_synthetic", "organizations": organizations, "limit_s": limit}
    command = [sys.executable, "-m", "core.fbas", "analyze", str(path), "--timeout", str(limit), "--json"]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    figures["ours_s"] = round(time.perf_counter() - began, 2)
    ours = json.loads(done.stdout)["results"]["node"] if done.returncode == 0 else None
    figures["ours"] = _answers(ours) if ours else f"no answer ({done.stderr.strip()})"
    began = time.perf_counter()
    try:
        output = subprocess.run(
            ["node", str(ORACLE), str(path), "--merges", "node"], capture_output=True, text=True, check=True,
            timeout=limit,
        ).stdout  # fmt: skip
        wasm = json.loads(output)["results"]["node"]
        figures["wasm"] = {
            "quorum_intersection": wasm["quorum_intersection"],
            "min_blocking": min(map(len, wasm["minimal_blocking_sets"]), default=0),
            "min_splitting": min(map(len, wasm["minimal_splitting_sets"]), default=0),
        }
    except subprocess.TimeoutExpired:
        figures["wasm"] = f"no answer within {limit:g} s"
    figures["wasm_s"] = round(time.perf_counter() - began, 2)
    if isinstance(figures["ours"], dict) and isinstance(figures["wasm"], dict):
        shared = [k for k in figures["wasm"] if figures["ours"].get(k) is not None]
        figures["agree"] = all(figures["ours"][k] == figures["wasm"][k] for k in shared)
        figures["ratio"] = round(figures["ours_s"] / figures["wasm_s"], 3)
    return figures


def _answers(result: dict) -> dict:
    def smallest(summary: dict | None) -> int | None:
        return None if summary is None else summary["min"]

    return {
        "quorum_intersection": result["quorum_intersection"],
        "min_blocking": smallest(result["minimal_blocking_sets"]),
        "min_splitting": smallest(result["minimal_splitting_sets"]),
    }


def compare(name: str) -> list[dict]:
    """Both sides' figures for one snapshot, per grouping: intersection, counts and smallest sizes, top tier."""
    command = [sys.executable, "-m", "core.fbas", "analyze", str(DATA / name), "--stellarbeat-parity"]
    command += ["--merge-by", "node,organization,country,isp", "--max-sets", "0", "--json"]
    oracle = ["node", str(ORACLE), str(DATA / name)]
    if name in ORGANIZATIONS:
        command += ["--organizations", str(DATA / ORGANIZATIONS[name])]
        oracle.append(str(DATA / ORGANIZATIONS[name]))
    ours = json.loads(subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout)["results"]
    theirs = json.loads(subprocess.run(oracle, capture_output=True, text=True, check=True).stdout)["results"]
    rows = []
    for merge in ("node", "organization", "country", "isp"):
        mine, wasm = ours[merge], theirs[merge]
        figures = {
            "intersection": (mine["quorum_intersection"], wasm["quorum_intersection"]),
            "quorums": (mine["minimal_quorums"]["count"], len(wasm["minimal_quorums"])),
            "top_tier": (len(mine["top_tier"]), len(wasm["top_tier"])),
            "blocking": _count_min(mine["minimal_blocking_sets"], wasm["minimal_blocking_sets"]),
            "splitting": _count_min(mine["minimal_splitting_sets"], wasm["minimal_splitting_sets"]),
        }
        agree = all(a == b for a, b in figures.values())
        rows.append({"bench": "fbas_compare", "snapshot": name, "merge": merge, **figures, "agree": agree})
    return rows


def _count_min(mine: dict, wasm: list[list[str]]) -> tuple[str, str]:
    return f"{mine['count']}/{mine['min']}", f"{len(wasm)}/{min(map(len, wasm), default=0)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--snapshots", help="comma-separated paths under shared/data/fbas (default: all)")
    parser.add_argument("--synthetic", action="store_true", help="the 6-16 organization synthetic networks instead")
    parser.add_argument("--compare", action="store_true", help="both sides' results per grouping instead of times")
    args = parser.parse_args()
    if args.synthetic:
        with tempfile.TemporaryDirectory(prefix="ctas-fbas-bench-") as folder:
            for organizations in (6, 8, 10, 12, 14, 16):
                print(json.dumps(synthetic_case(organizations, Path(folder))), flush=True)
        return
    expected = json.loads((DATA / "expected_wasm_dev.json").read_text())
    names = args.snapshots.split(",") if args.snapshots else [n for n in expected if n != "_about"]
    if args.compare:
        for name in names:
            for row in compare(name):
                print(json.dumps(row), flush=True)
        return
    for name in names:
        runs = {"ours": [], "wasm": []}
        for _ in range(args.repeats):  # alternate, so both see the same machine load
            runs["ours"].append(ours(name))
            runs["wasm"].append(wasm(name))
        figures = {
            side: {
                "scan_ms": round(statistics.median(r[0] for r in results), 1),
                "wall_ms": round(statistics.median(r[1] for r in results), 1),
            }
            for side, results in runs.items()
        }
        print(
            json.dumps(
                {
                    "bench": "fbas",
                    "snapshot": name,
                    "analyses": "full scan: quorums, intersection, blocking, splitting, top tiers; 4 merges",
                    **figures,
                    "ratio_scan": round(figures["ours"]["scan_ms"] / max(figures["wasm"]["scan_ms"], 0.1), 3),
                    "ratio_wall": round(figures["ours"]["wall_ms"] / figures["wasm"]["wall_ms"], 3),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
