"""Benchmark: our FBAS scan against stellarbeat's WASM scanner, on every dev snapshot, in the same run.

    python bench/fbas.py [--repeats 3] [--snapshots NAME,...] [--compare]
    python bench/fbas.py --synthetic [--limit 10] [--only LABEL,...]
    python bench/fbas.py --scale

Both sides run as fresh processes on the same file with all four groupings (node, organization, country, ISP),
stellarbeat's preprocessing and faulty rule, and the same analyses (stellarbeat's full scan): minimal quorums and
intersection, minimal blocking sets, minimal splitting sets, top tier, symmetric top tier. Prints one JSON line per
snapshot: median scan times inside each process (after each side's start-up), median wall times, and ratios.

With --compare: both sides' results per snapshot and grouping (intersection, minimal quorums, top tier, counts and
smallest sizes of the blocking and splitting sets), one JSON line each with "agree".

With --synthetic: almost-symmetric networks of 6 to 16 organizations (3 validators each, 3 random deletions) and
sybil networks of 40 to 60 nodes (an honest core of 4 organizations, sybils naming 6 or 7 others and one core
organization, 60% of them needed), node level, no faulty nodes. Ours runs once with --timeout LIMIT for the whole
scan; each of the WASM scanner's analyses runs in its own process, stopped after LIMIT seconds. Per analysis: each
side's time inside its process (ours: the phases that answer it), whether it completed, the answers (count, or
intersection and count), "agree" and the time ratio where the WASM scanner completed.

With --scale: generated networks of 100, 300, 500 and 1,000 validators (a top tier of 20 to 40 in organizations of
3 to 7, the rest watchers), ours only, with --timeout 60: per analysis, complete or the fallback given.
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


WASM_ANALYSES = ("minimal_quorums", "top_tier", "minimal_blocking_sets", "minimal_splitting_sets")
OURS_TIME = {  # our phases that answer each of the WASM scanner's analyses
    "minimal_quorums": ("minimal_quorums", "quorum_intersection"),
    "top_tier": ("top_tier",),  # found from the quorum structure, before and apart from the minimal quorums
    "minimal_blocking_sets": ("minimal_blocking_sets",),
    "minimal_splitting_sets": ("minimal_splitting_sets",),
}


def synthetic_networks() -> list[tuple[str, list[dict]]]:
    """Almost-symmetric networks of 6 to 16 organizations, and sybil networks of 40 to 60 nodes."""
    sys.path.insert(0, str(REPO))
    from core.fbas.synthetic import almost_symmetric, sybil_network

    networks = [(f"symmetric-{o}", almost_symmetric(o, deletions=3, seed=o)) for o in (6, 8, 10, 12, 14, 16)]
    for sybils, peers in ((28, 6), (28, 7), (38, 6), (38, 7), (48, 6), (48, 7)):
        nodes = sybil_network(4, sybils, sybil_peers=peers, sybil_threshold=0.6, sybils_trust_core=1, seed=1)
        networks.append((f"sybil-{12 + sybils}-peers{peers}", nodes))
    return networks


def synthetic_case(label: str, nodes: list[dict], folder: Path, limit: float) -> dict:
    """One network: our scan with `limit` seconds in all, and each WASM analysis in its own process with `limit`
    seconds; per analysis, each side's time and whether it completed, and whether the answers agree."""
    path = folder / f"{label}.json"
    path.write_text(json.dumps(nodes))
    figures: dict = {"bench": "fbas_synthetic", "network": label, "nodes": len(nodes), "limit_s": limit}
    command = [sys.executable, "-m", "core.fbas", "analyze", str(path), "--timeout", str(limit), "--json"]
    command += ["--max-sets", "0", "--faulty", "none"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {**figures, "ours": f"no answer ({done.stderr.strip()})"}
    report = json.loads(done.stdout)
    ours, elapsed, status = report["results"]["node"], report["elapsed_ms"], report["analyses"]
    rows = {}
    for analysis in WASM_ANALYSES:
        mine = {
            "complete": status["top_tier" if analysis == "top_tier" else analysis]["complete"],
            "ms": round(sum(elapsed.get(phase, 0.0) for phase in OURS_TIME[analysis]), 1),
            "answer": _our_answer(ours, analysis),
        }
        theirs = _wasm_analysis(path, analysis, limit)
        sets = theirs.pop("sets", None)
        row = {"ours": mine, "wasm": theirs}
        if theirs["complete"]:
            row["agree"] = mine["complete"] and mine["answer"] == theirs["answer"]
            row["ratio"] = round(mine["ms"] / max(theirs["ms"], 0.1), 3)
            if not row["agree"] and sets is not None:  # which side is wrong: check the WASM sets one by one
                row["wasm_sets_wrong"] = _wrong_sets(nodes, analysis, sets)
        rows[analysis] = row
    return {**figures, "ours_total_ms": elapsed["total"], "analyses": rows}


def _our_answer(result: dict, analysis: str) -> object:
    if analysis == "top_tier":
        return None if result["top_tier"] is None else len(result["top_tier"])
    summary = result[analysis]
    answer = None if summary is None else summary["count"]
    return [result["quorum_intersection"], answer] if analysis == "minimal_quorums" else answer


def _wasm_analysis(path: Path, analysis: str, limit: float) -> dict:
    """One WASM analysis in its own process, stopped after `limit` seconds."""
    command = ["node", str(ORACLE), str(path), "--analysis", analysis, "--faulty", "none"]
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=limit).stdout
    except subprocess.TimeoutExpired:
        return {"complete": False, "ms": limit * 1000, "answer": f"no answer within {limit:g} s"}
    printed = json.loads(output)
    result = printed["result"]
    sets = result["result"] if analysis == "minimal_quorums" else result
    if analysis == "minimal_quorums":
        answer: object = [result["quorum_intersection"], len(result["result"])]
    else:
        answer = len(result)
    return {"complete": True, "ms": round(printed["elapsed_ms"], 1), "answer": answer, "sets": sets}


def _wrong_sets(nodes: list[dict], analysis: str, sets: list) -> int | None:
    """How many of the listed sets are not what they claim, each checked on its own by the definition: a minimal
    quorum (a quorum, and no node can leave it with a quorum left inside) or a minimal blocking set (no quorum
    avoids it, and one does once any one of its nodes is given back)."""
    from core.fbas.analysis import compile_fbas, is_quorum, max_quorum
    from core.fbas.model import loads

    compiled = compile_fbas(loads(json.dumps(nodes)))
    everyone = frozenset(compiled.keys)
    if analysis == "minimal_quorums":
        return sum(
            not is_quorum(compiled, frozenset(q)) or any(max_quorum(compiled, frozenset(q) - {k}) for k in q)
            for q in sets
        )
    if analysis == "minimal_blocking_sets":
        blocks = [not max_quorum(compiled, everyone - frozenset(b)) for b in sets]
        minimal = [all(max_quorum(compiled, everyone - (frozenset(b) - {k})) for k in b) for b in sets]
        return sum(not (x and y) for x, y in zip(blocks, minimal, strict=True))
    return None


def scale_case(validators: int, folder: Path, limit: float = 60.0) -> dict:
    """A generated network of `validators` nodes (top tier of 20 to 40): our scan within `limit` seconds in all."""
    sys.path.insert(0, str(REPO))
    from core.fbas.synthetic import realistic_network

    top = 20 + validators % 21  # 20 to 40, varying with the size
    path = folder / f"scale-{validators}.json"
    path.write_text(json.dumps(realistic_network(validators, top_tier=top, seed=validators)))
    command = [sys.executable, "-m", "core.fbas", "analyze", str(path), "--timeout", str(limit), "--json"]
    command += ["--max-sets", "0", "--merge-by", "node,organization"]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    wall = round(time.perf_counter() - began, 2)
    figures = {"bench": "fbas_scale", "validators": validators, "top_tier_target": top, "limit_s": limit}
    if done.returncode != 0:
        return {**figures, "wall_s": wall, "answer": f"exit {done.returncode}: {done.stderr.strip()}"}
    report = json.loads(done.stdout)
    node = report["results"]["node"]
    return {
        **figures,
        "wall_s": wall,
        "scan_ms": report["elapsed_ms"],
        "analyses": {name: "complete" if s["complete"] else s["fallback"] for name, s in report["analyses"].items()},
        "top_tier": None if node["top_tier"] is None else len(node["top_tier"]),
        "minimal_quorums": node["minimal_quorums"] and node["minimal_quorums"]["count"],
        "smallest_blocking": node["minimal_blocking_sets"] and node["minimal_blocking_sets"]["min"],
        "smallest_splitting": node["minimal_splitting_sets"] and node["minimal_splitting_sets"]["min"],
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
    parser.add_argument("--synthetic", action="store_true", help="the synthetic and sybil networks instead")
    parser.add_argument("--limit", type=float, default=10.0, help="seconds per side (--synthetic)")
    parser.add_argument("--only", help="comma-separated network labels (--synthetic)")
    parser.add_argument("--scale", action="store_true", help="generated networks of 100 to 1,000 validators")
    parser.add_argument("--compare", action="store_true", help="both sides' results per grouping instead of times")
    args = parser.parse_args()
    if args.synthetic or args.scale:
        with tempfile.TemporaryDirectory(prefix="ctas-fbas-bench-") as folder:
            if args.scale:
                for validators in (100, 300, 500, 1000):
                    print(json.dumps(scale_case(validators, Path(folder))), flush=True)
                return
            for label, nodes in synthetic_networks():
                if args.only is None or label in args.only.split(","):
                    print(json.dumps(synthetic_case(label, nodes, Path(folder), args.limit)), flush=True)
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
