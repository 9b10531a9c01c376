"""Generate one batch of demo data: the raw contract tables and the truth table."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa

from orchestration.generate import truth
from orchestration.generate.batch import Batch
from orchestration.generate.people import MAX_PEOPLE, World
from orchestration.generate.sources import (
    commerce,
    crm,
    privacy,
    service,
    stores,
    tracking,
    wechat,
)

Builder = Callable[[Batch], dict[str, pa.Table]]


def _orders(batch: Batch) -> dict[str, pa.Table]:
    orders, items = commerce.build(batch)
    return {"ecom_orders": orders, "ecom_order_items": items}


def _single(name: str, build: Callable[[Batch], pa.Table]) -> Builder:
    return lambda batch: {name: build(batch)}


# Order matters: consent and deletion requests refer to identifiers seen before them.
BUILDERS: tuple[Builder, ...] = (
    _single("crm_members", crm.build),
    _orders,
    _single("web_events", tracking.build_web),
    _single("app_events", tracking.build_app),
    _single("pos_transactions", stores.build),
    _single("wechat_followers", wechat.build),
    _single("service_tickets", service.build),
    _single("consent_events", privacy.build_consent),
    _single("deletion_requests", privacy.build_deletions),
)


def iter_tables(
    people: int, seed: int = 42, batch: int = 0
) -> Iterator[tuple[str, pa.Table]]:
    """Yield (table name, table) one at a time, the truth table last.

    ``batch=0`` is the full history of ``people`` people over two years; ``batch=k`` (k >= 1)
    is the k-th daily delta (about 1% of the rows of batch 0): new people plus returning
    people who reuse their identifiers. Ids never collide between batches. Consuming
    tables one by one keeps memory low at millions of people.
    """
    if not 1 <= people <= MAX_PEOPLE:
        raise ValueError(f"people must be between 1 and {MAX_PEOPLE:,}, got {people}")
    if batch < 0:
        raise ValueError(f"batch must be >= 0, got {batch}")
    world = World(seed=seed, size=people)
    current = Batch.start(world, batch)
    for build in BUILDERS:
        yield from build(current).items()
    yield "person_identifiers", truth.build(world, current.sightings)


def generate(people: int, seed: int = 42, batch: int = 0) -> dict[str, pa.Table]:
    """All tables of a batch: the raw contract tables and ``person_identifiers`` (truth)."""
    return dict(iter_tables(people, seed, batch))
