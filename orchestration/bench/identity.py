"""Identity stitching cost: the project's SQL connected components vs scipy, same edges.

After ``dbt build`` of the identity layer, ``prepare_edges`` writes the guarded edge list
(the input of identity_clusters: edges between identifiers that are not excluded as
bridges) to ``bench.edges_random``; ``sql_components`` runs the project's loop on it
(macro ``build_connected_components`` via ``dbt run-operation
benchmark_connected_components``) and ``scipy_components`` runs
``scipy.sparse.csgraph.connected_components`` on the same edges (ids factorised first; the
in-memory floor). ``prepare_sequential_edges`` renumbers ids in creation order, the
adversarial order for label propagation.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from orchestration.bench.workspace import DbtError, Scratch
from orchestration.resources.warehouse import WarehouseConnection

SCHEMA = "bench"
RANDOM_EDGES = "edges_random"
SEQUENTIAL_EDGES = "edges_sequential"

_GUARDED_EDGES = f"""
    create table {SCHEMA}.{RANDOM_EDGES} as
    select edges.node_a, edges.node_b
    from identity.identity_edges as edges
    inner join identity.identity_identifiers as identifier_a
        on edges.node_a = identifier_a.node_id and identifier_a.bridge_exclusion_reason is null
    inner join identity.identity_identifiers as identifier_b
        on edges.node_b = identifier_b.node_id and identifier_b.bridge_exclusion_reason is null
"""

_NODE_ORDER = f"""
    create table {SCHEMA}.node_order as
    select
        node_id,
        row_number() over (order by first_seen_at, node_id) as sequential_id
    from identity.identity_identifiers
"""

_SEQUENTIAL_EDGES = f"""
    create table {SCHEMA}.{SEQUENTIAL_EDGES} as
    select node_a.sequential_id as node_a, node_b.sequential_id as node_b
    from {SCHEMA}.{RANDOM_EDGES} as edges
    inner join {SCHEMA}.node_order as node_a on edges.node_a = node_a.node_id
    inner join {SCHEMA}.node_order as node_b on edges.node_b = node_b.node_id
"""

_CC_RESULT = re.compile(r"CC_RESULT (\{.*\})")


@dataclass(frozen=True)
class ScipyComponents:
    seconds: float
    nodes: int
    components: int
    largest: int


def _recreate(connection: WarehouseConnection, name: str, statement: str) -> None:
    connection.execute(f"drop table if exists {SCHEMA}.{name}")
    connection.execute(statement)


def prepare_edges(connection: WarehouseConnection) -> int:
    """Write the guarded edge list to bench.edges_random; returns its edge count."""
    connection.execute(f"create schema if not exists {SCHEMA}")
    _recreate(connection, RANDOM_EDGES, _GUARDED_EDGES)
    return int(connection.scalar(f"select count(*) from {SCHEMA}.{RANDOM_EDGES}"))


def prepare_sequential_edges(connection: WarehouseConnection) -> None:
    """bench.edges_sequential: the same graph with ids renumbered first seen first."""
    _recreate(connection, "node_order", _NODE_ORDER)
    _recreate(connection, SEQUENTIAL_EDGES, _SEQUENTIAL_EDGES)


def latest_clustering(connection: WarehouseConnection) -> dict[str, Any]:
    """The last run logged by identity_clusters: mode, rounds, edges and seconds."""
    rows = connection.fetchall(
        "select run_mode, cc_rounds, split_rounds, edges_processed, seconds"
        " from identity.identity_clusters__log order by run_started_at desc limit 1"
    )
    if not rows:
        return {}
    mode, cc_rounds, split_rounds, edges, seconds = rows[0]
    return {"mode": mode, "cc_rounds": int(cc_rounds), "split_rounds": int(split_rounds),
            "edges": int(edges), "seconds": float(seconds)}


def sql_components(scratch: Scratch, edges: str = RANDOM_EDGES) -> dict[str, float]:
    """The project's SQL loop on bench.<edges>: {"rounds", "jumps", "seconds"} (seconds
    measured inside dbt, so without dbt's start-up)."""
    run = scratch.dbt("run-operation", "benchmark_connected_components",
                      "--args", json.dumps({"schema": SCHEMA, "edges": edges}))
    match = _CC_RESULT.search(run.output())
    if not match:
        raise DbtError(f"no CC_RESULT in the run-operation output ({run.log_path}):\n"
                       f"{run.tail(2000)}")
    return json.loads(match.group(1))


def fetch_edges(connection: WarehouseConnection) -> tuple[np.ndarray, np.ndarray]:
    statement = f"select node_a, node_b from {SCHEMA}.{RANDOM_EDGES}"
    if connection.dialect == "duckdb":
        columns = connection.raw.execute(statement).fetchnumpy()
        return (np.asarray(columns["node_a"], dtype=np.int64),
                np.asarray(columns["node_b"], dtype=np.int64))
    pairs = np.array(connection.fetchall(statement), dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def scipy_components(node_a: np.ndarray, node_b: np.ndarray) -> ScipyComponents:
    """Connected components in memory; the time covers id factorisation and the search."""
    started = time.perf_counter()
    nodes, inverse = np.unique(np.concatenate([node_a, node_b]), return_inverse=True)
    half = len(node_a)
    graph = coo_matrix(
        (np.ones(half, dtype=np.int8), (inverse[:half], inverse[half:])),
        shape=(len(nodes), len(nodes)),
    ).tocsr()
    count, labels = connected_components(graph, directed=False)
    seconds = time.perf_counter() - started
    largest = int(np.bincount(labels).max()) if len(labels) else 0
    return ScipyComponents(seconds, len(nodes), int(count), largest)
