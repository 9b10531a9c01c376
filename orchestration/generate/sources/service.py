"""service_tickets: customer-service contacts; which identifiers an agent records depends
on the channel (a call leaves a phone number, an email leaves an address)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generate import identifiers as ids
from orchestration.generate import messy, text
from orchestration.generate.batch import BAD_ROW_SHARE, Batch
from orchestration.generate.streams import choose

CHANNELS = ("call_center", "online_chat", "email")
CALL_CENTER, ONLINE_CHAT, EMAIL_CHANNEL = range(3)
CATEGORIES = ("complaint", "inquiry", "return")
SATISFACTION_WEIGHTS = (5, 10, 20, 35, 30)  # 1..5
TIMESTAMP_WEIGHTS = {
    messy.SPACE: 5,
    messy.ISO_SHANGHAI: 2,
    messy.ISO_Z: 2,
    messy.SLASH: 1,
}
PHONE_WEIGHTS = {messy.PLAIN: 4, messy.SPACED: 2, messy.DASHED: 2, messy.DOUBLE_ZERO: 1}
EMAIL_WEIGHTS = {messy.AS_IS: 6, messy.TITLE: 2, messy.PADDED: 2, messy.UPPER: 1}
MISSING_ID, BAD_CREATED_AT, BAD_EMAIL, BAD_PHONE = 1, 2, 3, 4


def build(batch: Batch) -> pa.Table:
    rng = batch.rng("service_tickets")
    customers = batch.who(batch.profiles.has_tickets)
    ticket_counts = rng.geometric(2 / 3, len(customers))
    rows = customers.take(np.repeat(np.arange(len(customers)), ticket_counts))
    size = len(rows)
    channel = choose(rng, size, (40, 35, 25))
    has_member = rows.has_crm & (
        rng.random(size) < np.where(channel == ONLINE_CHAT, 0.8, 0.5)
    )
    has_phone = (channel == CALL_CENTER) | (
        rng.random(size) < np.where(channel == EMAIL_CHANNEL, 0.1, 0.4)
    )
    has_email = (channel == EMAIL_CHANNEL) | (rng.random(size) < 0.2)
    has_phone |= ~(has_member | has_email)
    created = batch.times(rng, rows.since, tail=0.9)
    resolved = created + (600 + rng.exponential(36 * 3600, size)).astype(np.int64)
    is_resolved = (rng.random(size) < 0.85) & (resolved < batch.window[1])
    numbers = ids.phone_number(batch.world, rows.person)
    email_keys = ids.email_key(rows.person)
    bad = messy.plan_bad_rows(rng, size, BAD_ROW_SHARE, 4)
    columns = {
        "ticket_id": messy.blank_out(rng, batch.ids("TK", size, 8), bad == MISSING_ID),
        "member_id": messy.blank_out(rng, ids.member_id(rows.person), ~has_member),
        "phone": messy.replace_with(
            rng,
            messy.blank_out(rng, messy.phones(rng, numbers, PHONE_WEIGHTS), ~has_phone),
            bad == BAD_PHONE,
            messy.BAD_PHONES,
        ),
        "email": messy.replace_with(
            rng,
            messy.blank_out(
                rng,
                messy.emails(rng, ids.email(batch.world, email_keys), EMAIL_WEIGHTS),
                ~has_email,
            ),
            bad == BAD_EMAIL,
            messy.BAD_EMAILS,
        ),
        "channel": text.pick(CHANNELS, channel),
        "category": text.pick(CATEGORIES, choose(rng, size, (30, 50, 20))),
        "created_at": messy.replace_with(
            rng,
            messy.timestamps(rng, created, TIMESTAMP_WEIGHTS),
            bad == BAD_CREATED_AT,
            messy.BAD_TIMESTAMPS,
        ),
        "resolved_at": messy.blank_out(
            rng, messy.timestamps(rng, resolved, TIMESTAMP_WEIGHTS), ~is_resolved
        ),
        "satisfaction": messy.blank_out(
            rng,
            text.integers(1 + choose(rng, size, SATISFACTION_WEIGHTS)),
            ~is_resolved | (rng.random(size) < 0.4),
        ),
    }
    good = bad == 0
    batch.sightings.add(ids.MEMBER_ID, rows.person, rows.person, good & has_member)
    batch.sightings.add(ids.PHONE, rows.person, numbers, good & has_phone)
    batch.sightings.add(ids.EMAIL, rows.person, email_keys, good & has_email)
    return batch.table("service_tickets", columns, rng)
