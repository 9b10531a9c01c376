"""Compare one relation as built by two engines, row for row.

Customer ids are minted per warehouse, so a customer is compared through what it is: the
sorted set of identifiers customer_identifiers assigns to it. Numbers compare as numbers
(DuckDB's hugeint sums, PostgreSQL's numerics and Spark's decimals alike), to 6 decimals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tests.python.cdp_testing import Warehouse

CustomerKey = tuple[tuple[str, str], ...]
# Run-time stamps: differ between any two builds, whatever the engine.
RUN_TIME_COLUMNS = frozenset({
    "computed_at", "processed_at", "changed_at", "staged_at", "refreshed_at",
})


def customer_keys(warehouse: Warehouse) -> dict[str, CustomerKey]:
    """customer_id -> the sorted (identifier_type, identifier_value) pairs it holds."""
    held: dict[str, list[tuple[str, str]]] = {}
    for customer_id, identifier_type, identifier_value in warehouse.query(
        "select customer_id, identifier_type, identifier_value"
        " from identity.customer_identifiers"
    ):
        held.setdefault(customer_id, []).append((identifier_type, identifier_value))
    return {customer_id: tuple(sorted(pairs)) for customer_id, pairs in held.items()}


def relation_columns(warehouse: Warehouse, relation: str) -> list[str]:
    """Column names of schema.name in table order (DuckDB or PostgreSQL)."""
    schema, name = relation.split(".")
    rows = warehouse.query(
        "select column_name from information_schema.columns"
        f" where table_schema = '{schema}' and table_name = '{name}'"
        " order by ordinal_position"
    )
    return [row[0] for row in rows]


def _comparable(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return round(float(value), 6)
    return value


def comparable_rows(
    warehouse: Warehouse, relation: str, columns: Sequence[str]
) -> Counter[tuple[Any, ...]]:
    """The relation's rows (these columns), customer ids replaced by customer keys."""
    keys = customer_keys(warehouse)
    id_positions = {i for i, column in enumerate(columns) if column.endswith("customer_id")}
    rows: Counter[tuple[Any, ...]] = Counter()
    for row in warehouse.query(f"select {', '.join(columns)} from {relation}"):
        rows[tuple(
            keys.get(value, ("unassigned customer_id", value)) if i in id_positions
            else _comparable(value)
            for i, value in enumerate(row)
        )] += 1
    return rows


def relation_differences(
    reference: Warehouse, other: Warehouse, relation: str, limit: int = 5
) -> list[str]:
    """Rows of `relation` found on one engine and not the other (at most `limit` per
    side, with the column names), or an empty list when the two match row for row."""
    columns = [c for c in relation_columns(reference, relation) if c not in RUN_TIME_COLUMNS]
    assert columns, f"{relation} has no columns on {reference.target}"
    expected = comparable_rows(reference, relation, columns)
    actual = comparable_rows(other, relation, columns)
    differences = []
    for side, extra in ((reference.target, expected - actual), (other.target, actual - expected)):
        for row in list(extra.elements())[:limit]:
            differences.append(f"only on {side}: {dict(zip(columns, row, strict=True))}")
    if differences:
        differences.insert(0, f"{relation}: {sum(expected.values())} rows on "
                              f"{reference.target}, {sum(actual.values())} on {other.target}")
    return differences
