"""Pairwise precision and recall of customer_identifiers against the generator's truth.

Only identifiers with exactly one true owner are scored (a family phone has no single
right answer). Recall is reported twice: against all true pairs, and against the pairs
the data can prove - two identifiers of one person joined by a chain of records that
carry only that person's identifiers (a cookie never logged in cannot be resolved by any
method, so it is not held against the resolver).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from tests.python.cdp_testing import Warehouse


@dataclass(frozen=True)
class PairScores:
    precision: float
    recall: float
    resolvable_recall: float
    true_pairs: int
    resolvable_pairs: int
    predicted_pairs: int
    correct_pairs: int
    scored_identifiers: int


def _pairs(groups: dict[object, int]) -> int:
    return sum(comb(size, 2) for size in groups.values())


def _count(keys: list[object]) -> dict[object, int]:
    counts: dict[object, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return counts


def score_identity(warehouse: Warehouse) -> PairScores:
    rows = warehouse.query("""
        with owners as (
            select identifier_type, identifier_value, min(person_id) as person_id
            from truth.person_identifiers
            group by identifier_type, identifier_value
            having count(distinct person_id) = 1
        )
        select owners.person_id, identifiers.node_id, assigned.customer_id
        from owners
        left join identity.identity_identifiers as identifiers
            on owners.identifier_type = identifiers.identifier_type
                and owners.identifier_value = identifiers.identifier_value
        left join identity.customer_identifiers as assigned
            on owners.identifier_type = assigned.identifier_type
                and owners.identifier_value = assigned.identifier_value
    """)
    person_of_node = {node: person for person, node, _ in rows if node is not None}
    edges = warehouse.query("select node_a, node_b from identity.identity_edges")
    own_edges = [(a, b) for a, b in edges
                 if a in person_of_node and person_of_node.get(b) == person_of_node[a]]
    index = {node: i for i, node in enumerate(person_of_node)}
    if own_edges:
        left = np.array([index[a] for a, _ in own_edges])
        right = np.array([index[b] for _, b in own_edges])
    else:
        left = right = np.array([], dtype=int)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(len(index), len(index)))
    _, evidence_component = connected_components(graph, directed=False)

    true_pairs = _pairs(_count([person for person, _, _ in rows]))
    resolvable_pairs = _pairs(_count([evidence_component[index[node]]
                                      for node in person_of_node]))
    predicted_pairs = _pairs(_count([customer for _, _, customer in rows if customer]))
    correct_pairs = _pairs(_count([(person, customer) for person, _, customer in rows
                                   if customer]))
    correct_resolvable = _pairs(_count([
        (evidence_component[index[node]], customer) for _, node, customer in rows
        if customer and node is not None
    ]))
    return PairScores(
        precision=correct_pairs / predicted_pairs if predicted_pairs else 1.0,
        recall=correct_pairs / true_pairs if true_pairs else 1.0,
        resolvable_recall=correct_resolvable / resolvable_pairs if resolvable_pairs else 1.0,
        true_pairs=true_pairs,
        resolvable_pairs=resolvable_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct_pairs,
        scored_identifiers=len(rows),
    )
