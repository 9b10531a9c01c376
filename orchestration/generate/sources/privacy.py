"""consent_events and deletion_requests: they refer to identifiers the person was seen with
in the other sources of the same batch (never to identifiers nobody could resolve)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generate import identifiers as ids
from orchestration.generate import messy, text, vocab
from orchestration.generate.batch import BAD_ROW_SHARE, Batch
from orchestration.generate.groups import group_ids, starts
from orchestration.generate.streams import choose

REFERABLE = (ids.MEMBER_ID, ids.EMAIL, ids.PHONE, ids.OPENID)
CHANNELS = ("email", "sms", "wechat", "push", "ads")
EMAIL, SMS, WECHAT, PUSH, ADS = range(5)
PURPOSES = ("marketing", "service", "analytics")
TIMESTAMP_WEIGHTS = {messy.ISO_Z: 6, messy.ISO_MILLIS_UTC: 2, messy.SPACE: 2}
PHONE_WEIGHTS = {messy.PLAIN: 5, messy.E164: 3, messy.SPACED: 1, messy.COUNTRY: 1}
EMAIL_WEIGHTS = {messy.AS_IS: 6, messy.TITLE: 2, messy.PADDED: 1, messy.UPPER: 1}
MISSING_ID, BAD_TS, BAD_VALUE = 1, 2, 3


def _referable_sightings(
    batch: Batch, kinds: tuple[int, ...], people: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person, kind, key) seen in this batch, of the given kinds, junk excluded."""
    person, kind, key = batch.sightings.distinct()
    keep = np.isin(kind, kinds)
    keep &= ~((kind == ids.EMAIL) & (key < 0)) & ~(
        (kind == ids.PHONE) & (key == vocab.JUNK_PHONE)
    )
    if people is not None:
        keep &= np.isin(person, people)
    return person[keep], kind[keep], key[keep]


def _pick_per_person(
    rng: np.random.Generator, person: np.ndarray, picks_per_person: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of (person-sorted) sightings picked at random, ``picks`` times per person.
    Returns (picked rows, the person group of each pick)."""
    group = group_ids(person)
    counts = (
        np.bincount(group).astype(np.int64) if len(group) else np.zeros(0, np.int64)
    )
    picks = np.broadcast_to(np.asarray(picks_per_person), counts.shape)
    pick_group = np.repeat(np.arange(len(counts)), picks)
    offset = (rng.random(len(pick_group)) * counts[pick_group]).astype(np.int64)
    return starts(counts)[pick_group] + offset, pick_group


def build_consent(batch: Batch) -> pa.Table:
    rng = batch.rng("consent_events")
    consenting = batch.profiles.person[batch.profiles.has_consent]
    person, kind, key = _referable_sightings(batch, REFERABLE, consenting)
    n_people = len(np.unique(person))
    rows, _ = _pick_per_person(rng, person, rng.integers(1, 5, n_people))
    person, kind, key = person[rows], kind[rows], key[rows]
    size = len(rows)
    channel = _channels(rng, kind)
    first_of_person = np.ones(size, dtype=bool)
    first_of_person[1:] = person[1:] != person[:-1]
    status = np.where(first_of_person | (rng.random(size) < 0.7), 0, 1)
    since = batch.world.profiles(person).since
    event_ts = batch.times(rng, since)
    bad = messy.plan_bad_rows(rng, size, BAD_ROW_SHARE, 3)
    value = _identifier_values(batch, rng, kind, key)
    invalid = text.pick(
        (*messy.BAD_EMAILS, *messy.BAD_PHONES),
        np.where(
            kind == ids.EMAIL,
            rng.integers(0, len(messy.BAD_EMAILS), size),
            len(messy.BAD_EMAILS) + rng.integers(0, len(messy.BAD_PHONES), size),
        ),
    )
    columns = {
        "consent_event_id": messy.blank_out(
            rng, batch.ids("CE", size), bad == MISSING_ID
        ),
        "identifier_type": text.pick(ids.IDENTIFIER_TYPES, kind),
        "identifier_value": text.where(bad == BAD_VALUE, invalid, value),
        "channel": text.pick(CHANNELS, channel),
        "purpose": text.pick(PURPOSES, choose(rng, size, (70, 15, 15))),
        "status": text.pick(("granted", "revoked"), status),
        "event_ts": messy.replace_with(
            rng,
            messy.timestamps(rng, event_ts, TIMESTAMP_WEIGHTS),
            bad == BAD_TS,
            messy.BAD_TIMESTAMPS,
        ),
        "source": _sources(rng, channel),
    }
    return batch.table("consent_events", columns, rng)


def _channels(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    size = len(kind)
    member_channel = np.array([PUSH, EMAIL, ADS])[choose(rng, size, (50, 25, 25))]
    phone_channel = np.where(rng.random(size) < 0.8, SMS, ADS)
    return np.select(
        [kind == ids.EMAIL, kind == ids.PHONE, kind == ids.OPENID],
        [EMAIL, phone_channel, WECHAT],
        member_channel,
    )


def _sources(rng: np.random.Generator, channel: np.ndarray) -> pa.Array:
    def build(code: int, rows: np.ndarray) -> pa.Array:
        choices = vocab.CONSENT_SOURCES[CHANNELS[code]]
        return text.pick(choices, rng.integers(0, len(choices), len(rows)))

    return text.by_group(channel, build)


def _identifier_values(
    batch: Batch, rng: np.random.Generator, kind: np.ndarray, key: np.ndarray
) -> pa.Array:
    """Identifiers as the consent tool recorded them (spelled messily)."""

    def build(code: int, rows: np.ndarray) -> pa.Array:
        canonical = ids.canonical(batch.world, code, key[rows])
        if code == ids.EMAIL:
            return messy.emails(rng, canonical, EMAIL_WEIGHTS)
        if code == ids.PHONE:
            return messy.phones(rng, key[rows], PHONE_WEIGHTS)
        return messy.pad(rng, canonical, 0.02)

    return text.by_group(kind, build)


def build_deletions(batch: Batch) -> pa.Table:
    """A handful of right-to-be-forgotten requests, each naming one identifier."""
    rng = batch.rng("deletion_requests")
    if batch.number == 0:
        requesters = batch.world.erasure_requesters()
    else:
        returning = batch.profiles.person[~batch.is_new & batch.profiles.has_crm]
        count = min(
            len(returning), max(1, len(batch.world.erasure_requesters()) // 100)
        )
        requesters = np.sort(rng.choice(returning, size=count, replace=False))
    person, kind, key = _referable_sightings(
        batch, (ids.MEMBER_ID, ids.EMAIL, ids.PHONE), requesters
    )
    rows, _ = _pick_per_person(rng, person, 1)
    kind, key = kind[rows], key[rows]
    size = len(rows)
    _, end = batch.window
    requested = (
        end - 1 - (rng.random(size) * min(30 * 86_400, end - batch.window[0] - 1))
    )
    columns = {
        "request_id": batch.ids("DR", size, 6),
        "identifier_type": text.pick(ids.IDENTIFIER_TYPES, kind),
        "identifier_value": _identifier_values(batch, rng, kind, key),
        "requested_at": messy.timestamps(
            rng, requested.astype(np.int64), {messy.ISO_Z: 1}
        ),
    }
    return batch.table("deletion_requests", columns, rng)
