"""Identity stitching benchmark: our SQL connected components vs scipy on the same edges.

    python benchmarks/identity.py --people 1000000

Generates the demo data in a scratch DuckDB file, builds staging and identity with dbt,
then on the very same guarded edge list (the input of identity_clusters) times
  - the project's SQL loop (macro build_connected_components, via dbt run-operation),
  - scipy.sparse.csgraph.connected_components (in-memory floor, ids factorised first),
and the SQL loop again with ids renumbered in creation order (first seen first), the
adversarial order for label propagation. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from orchestration.generate import RAW_SCHEMA, TRUTH_SCHEMA, iter_tables  # noqa: E402

GUARDED_EDGES_SQL = """
    create or replace table bench.edges_random as
    select edges.node_a, edges.node_b
    from identity.identity_edges as edges
    inner join identity.identity_identifiers as a
        on edges.node_a = a.node_id and a.bridge_exclusion_reason is null
    inner join identity.identity_identifiers as b
        on edges.node_b = b.node_id and b.bridge_exclusion_reason is null
"""

SEQUENTIAL_EDGES_SQL = """
    create or replace table bench.node_order as
    select node_id, row_number() over (order by first_seen_at, node_id) as sequential_id
    from identity.identity_identifiers;
    create or replace table bench.edges_sequential as
    select a.sequential_id as node_a, b.sequential_id as node_b
    from bench.edges_random as edges
    inner join bench.node_order as a on edges.node_a = a.node_id
    inner join bench.node_order as b on edges.node_b = b.node_id;
"""


def dbt(env: dict[str, str], *args: str) -> str:
    command = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(PROJECT_DIR),
               "--profiles-dir", str(PROJECT_DIR)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.exit(f"dbt {' '.join(args)} failed:\n{completed.stdout[-4000:]}")
    return completed.stdout


def load_raw(path: Path, people: int, seed: int) -> tuple[float, int]:
    started, rows = time.perf_counter(), 0
    conn = duckdb.connect(str(path))
    for schema in (RAW_SCHEMA, TRUTH_SCHEMA, "bench"):
        conn.execute(f"create schema if not exists {schema}")
    for name, table in iter_tables(people=people, seed=seed):
        schema = RAW_SCHEMA if not name.startswith("person") else TRUTH_SCHEMA
        conn.register("incoming", table)
        conn.execute(f"create or replace table {schema}.{name} as select * from incoming")
        conn.unregister("incoming")
        rows += table.num_rows if schema == RAW_SCHEMA else 0
    conn.close()
    return time.perf_counter() - started, rows


def sql_components(env: dict[str, str], edges: str) -> dict[str, float]:
    output = dbt(env, "run-operation", "benchmark_connected_components",
                 "--args", json.dumps({"schema": "bench", "edges": edges}))
    match = re.search(r"CC_RESULT (\{.*\})", output)
    if not match:
        sys.exit(f"no CC_RESULT in run-operation output:\n{output[-2000:]}")
    return json.loads(match.group(1))


def scipy_components(path: Path) -> tuple[float, int, int, int]:
    conn = duckdb.connect(str(path), read_only=True)
    edges = conn.execute("select node_a, node_b from bench.edges_random").fetchnumpy()
    conn.close()
    started = time.perf_counter()
    nodes, inverse = np.unique(np.concatenate([edges["node_a"], edges["node_b"]]),
                               return_inverse=True)
    half = len(edges["node_a"])
    graph = coo_matrix((np.ones(half, dtype=np.int8), (inverse[:half], inverse[half:])),
                       shape=(len(nodes), len(nodes))).tocsr()
    count, labels = connected_components(graph, directed=False)
    seconds = time.perf_counter() - started
    largest = int(np.bincount(labels).max()) if len(labels) else 0
    return seconds, len(nodes), count, largest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cdp_bench_identity_"))
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "cdp_identity.duckdb"
    database.unlink(missing_ok=True)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
           "CDP_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": str(workdir / "target"),
           "DBT_LOG_PATH": str(workdir / "logs"), "DBT_TARGET": "dev"}

    generate_s, raw_rows = load_raw(database, args.people, args.seed)
    started = time.perf_counter()
    dbt(env, "build", "--select", "path:seeds", "path:models/staging", "path:models/identity")
    build_s = time.perf_counter() - started
    results = json.loads((workdir / "target" / "run_results.json").read_text())
    model_seconds = {r["unique_id"].split(".")[-1]: r["execution_time"]
                     for r in results["results"] if r["unique_id"].startswith("model.")}
    identity_layer_s = sum(s for name, s in model_seconds.items()
                           if name.startswith(("identity_", "customer_")))

    conn = duckdb.connect(str(database))
    conn.execute(GUARDED_EDGES_SQL)
    conn.execute(SEQUENTIAL_EDGES_SQL)
    edge_count = conn.execute("select count(*) from bench.edges_random").fetchall()[0][0]
    clusters_log = conn.execute(
        "select cc_rounds, split_rounds, seconds from identity.identity_clusters__log"
        " order by run_started_at desc limit 1").fetchall()[0]
    conn.close()

    random_ids = sql_components(env, "edges_random")
    sequential_ids = sql_components(env, "edges_sequential")
    scipy_s, nodes, components, largest = scipy_components(database)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    figures = {
        "people": args.people, "raw_rows": raw_rows, "edges": edge_count, "nodes": nodes,
        "components": components, "largest_component": largest,
        "generate_s": round(generate_s, 2), "build_staging_identity_s": round(build_s, 2),
        "identity_layer_s": round(identity_layer_s, 2),
        "identity_clusters_s": round(model_seconds.get("identity_clusters", 0.0), 2),
        "identity_clusters_rounds": clusters_log[0], "split_rounds": clusters_log[1],
        "cc_sql_s": round(random_ids["seconds"], 3), "cc_sql_rounds": random_ids["rounds"],
        "cc_sql_pointer_jumps": random_ids["jumps"],
        "cc_sql_sequential_s": round(sequential_ids["seconds"], 3),
        "cc_sql_sequential_rounds": sequential_ids["rounds"],
        "scipy_cc_s": round(scipy_s, 3),
        "cc_vs_scipy": round(random_ids["seconds"] / scipy_s, 2) if scipy_s else None,
        "sequential_vs_random_rounds": round(sequential_ids["rounds"] / max(random_ids["rounds"], 1), 2),
        "peak_rss_mb": round(peak_rss_mb),
    }
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
