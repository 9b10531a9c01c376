"""Identity stitching benchmark: our SQL connected components vs scipy on the same edges.

    python benchmarks/identity.py --people 1000000 [--workdir DIR]
    python benchmarks/identity.py --people 1000000 --workdir DIR --reuse   # measure only

``--reuse`` measures on the data and identity build a previous run (this script or
``cdp bench --workdir DIR``) left in DIR, without generating or building again.

Generates the demo data in a scratch DuckDB file, builds staging and identity with dbt,
then on the very same guarded edge list (the input of identity_clusters) times
  - the project's SQL loop (macro build_connected_components, via dbt run-operation),
  - scipy.sparse.csgraph.connected_components (in-memory floor, ids factorised first),
and the SQL loop again with ids renumbered in creation order (first seen first), the
adversarial order for label propagation. Prints a table and one JSON line.

The steps live in ``orchestration.bench`` (shared with ``cdp bench``, which times the
whole pipeline).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestration.bench import identity, memory
from orchestration.bench.run_results import profile_build
from orchestration.bench.runner import generate_raw, raw_row_count
from orchestration.bench.workspace import Scratch

# cautious: tests of staging/identity only, not tests that also read the marts
SELECT = ("--select", "path:seeds", "path:models/staging", "path:models/identity",
          "--indirect-selection", "cautious")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the data and build already in --workdir (measure only)")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cdp_bench_identity_"))
    scratch = Scratch.open("dev", workdir, keep=args.reuse)

    if args.reuse:
        # measure only: the raw data and the identity models already built in --workdir
        # (by this script or `cdp bench`); timings of that build from its run_results.json
        generate_s = build_s = None
        results_path = scratch.target_path / "run_results.json"
        if not results_path.exists():
            parser.error(f"--reuse: no dbt build in {workdir} ({results_path} is missing)")
        run_results = json.loads(results_path.read_text())
        with scratch.resource().connect() as connection:
            raw_rows = sum(connection.scalar(f"select count(*) from raw.{name}")
                           for (name,) in connection.fetchall(
                               "select table_name from information_schema.tables"
                               " where table_schema = 'raw'"))
    else:
        started = time.perf_counter()
        raw_rows = raw_row_count(generate_raw(scratch, args.people, args.seed))
        generate_s = round(time.perf_counter() - started, 2)
        build = scratch.dbt("build", *SELECT)
        assert build.run_results is not None
        build_s = round(build.seconds, 2)
        run_results = build.run_results
    profile = profile_build(run_results, scratch.manifest())
    identity_layer = profile.layers.get("identity")

    with scratch.resource().connect() as connection:
        edge_count = identity.prepare_edges(connection)
        identity.prepare_sequential_edges(connection)
        clustering = identity.latest_clustering(connection)
    random_ids = identity.sql_components(scratch, identity.RANDOM_EDGES)
    sequential_ids = identity.sql_components(scratch, identity.SEQUENTIAL_EDGES)
    with scratch.resource().connect() as connection:
        scipy = identity.scipy_components(*identity.fetch_edges(connection))

    figures = {
        "people": args.people, "raw_rows": raw_rows, "edges": edge_count, "nodes": scipy.nodes,
        "components": scipy.components, "largest_component": scipy.largest,
        "generate_s": generate_s, "build_staging_identity_s": build_s,
        "identity_layer_s": round(identity_layer.total_s if identity_layer else 0.0, 2),
        "identity_clusters_s": round(profile.model_seconds("identity_clusters"), 2),
        "identity_clusters_rounds": clustering.get("cc_rounds"),
        "split_rounds": clustering.get("split_rounds"),
        "cc_sql_s": round(random_ids["seconds"], 3), "cc_sql_rounds": random_ids["rounds"],
        "cc_sql_pointer_jumps": random_ids["jumps"],
        "cc_sql_sequential_s": round(sequential_ids["seconds"], 3),
        "cc_sql_sequential_rounds": sequential_ids["rounds"],
        "scipy_cc_s": round(scipy.seconds, 3),
        "cc_vs_scipy": round(random_ids["seconds"] / scipy.seconds, 2) if scipy.seconds else None,
        "sequential_vs_random_rounds": round(
            sequential_ids["rounds"] / max(random_ids["rounds"], 1), 2),
        "peak_rss_mb": round(memory.run_peak_mb()),
    }
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
