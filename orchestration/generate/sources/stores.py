"""pos_transactions: till receipts in store-local time (Asia/Shanghai, no offset), with
the member card scanned and/or the phone number typed by the cashier, or neither."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generate import identifiers as ids
from orchestration.generate import messy, text, vocab
from orchestration.generate.batch import BAD_ROW_SHARE, Batch
from orchestration.generate.messy import SHANGHAI_OFFSET_SECONDS

PHONE_WEIGHTS = {messy.PLAIN: 8, messy.SPACED: 2, messy.E164: 0.5, messy.DASHED: 0.5}
MONEY_WEIGHTS = {messy.DECIMAL: 7, messy.SHORT: 2, messy.YUAN: 1, messy.GROUPED: 0.5}
LOCAL_TIMESTAMPS = {messy.SPACE: 9, messy.SLASH: 1}  # store time, never an offset
MISSING_ID, BAD_TS, BAD_AMOUNT, NEGATIVE_AMOUNT, BAD_PHONE = 1, 2, 3, 4, 5


def build(batch: Batch) -> pa.Table:
    rng = batch.rng("pos_transactions")
    shoppers = batch.who(batch.profiles.has_pos)
    visit_counts = rng.geometric(1 / 3, len(shoppers))
    rows = shoppers.take(np.repeat(np.arange(len(shoppers)), visit_counts))
    size = len(rows)
    utc = _opening_hours(batch.times(rng, rows.since))
    local = utc + SHANGHAI_OFFSET_SECONDS

    has_card = rows.has_crm & (rng.random(size) < 0.8)
    has_phone = rng.random(size) < np.where(
        has_card, 0.35, np.where(rows.has_crm, 0.6, 0.75)
    )
    numbers = ids.phone_number(batch.world, rows.person)
    bad = messy.plan_bad_rows(rng, size, BAD_ROW_SHARE, 5)
    items = 1 + rng.geometric(1 / 2.2, size)
    amount = items * rng.integers(3_000, 40_000, size) // 10 * 10
    discount = np.where(rng.random(size) < 0.3, amount // 10 // 100 * 100, 0)
    amount = np.where(bad == NEGATIVE_AMOUNT, -amount, amount)
    store = np.where(
        rng.random(size) < 0.8,
        rows.home_store,
        rng.integers(0, vocab.STORE_COUNT, size),
    )
    columns = {
        "txn_id": messy.blank_out(rng, batch.ids("T", size, 10), bad == MISSING_ID),
        "store_id": text.fixed([b"S", text.digits(store + 1, 3)], size),
        "member_card_no": messy.blank_out(
            rng, messy.pad(rng, ids.member_card(rows.person), 0.03), ~has_card
        ),
        "phone": messy.replace_with(
            rng,
            messy.blank_out(rng, messy.phones(rng, numbers, PHONE_WEIGHTS), ~has_phone),
            bad == BAD_PHONE,
            messy.BAD_PHONES,
        ),
        "txn_ts": messy.replace_with(
            rng,
            messy.timestamps(rng, local, LOCAL_TIMESTAMPS),
            bad == BAD_TS,
            messy.BAD_TIMESTAMPS,
        ),
        "amount": messy.replace_with(
            rng,
            messy.money(rng, amount - discount, MONEY_WEIGHTS),
            bad == BAD_AMOUNT,
            messy.BAD_AMOUNTS,
        ),
        "discount_amount": messy.money(rng, discount, MONEY_WEIGHTS),
        "items_count": text.integers(items),
    }
    good = bad == 0
    batch.sightings.add(ids.MEMBER_CARD, rows.person, rows.person, good & has_card)
    batch.sightings.add(ids.PHONE, rows.person, numbers, good & has_phone)
    return batch.table("pos_transactions", columns, rng)


def _opening_hours(utc: np.ndarray) -> np.ndarray:
    """Move times into 10:00-22:00 Shanghai time on the same local day."""
    local = utc + SHANGHAI_OFFSET_SECONDS
    day, second = np.divmod(local, 86_400)
    second = 10 * 3600 + second * 12 // 24
    return day * 86_400 + second - SHANGHAI_OFFSET_SECONDS
