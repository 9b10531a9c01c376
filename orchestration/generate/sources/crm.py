"""crm_members: one row per member version; 2-3 versions for some members (later wins)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generate import identifiers as ids
from orchestration.generate import messy, text, vocab
from orchestration.generate.batch import BAD_ROW_SHARE, Batch
from orchestration.generate.groups import rank_within
from orchestration.generate.people import Profiles
from orchestration.generate.streams import choose

VERSION_WEIGHTS = (0.80, 0.14, 0.06)  # 1, 2 or 3 rows per new member
UPDATE_SHARE = 0.3  # returning members with a new version in a later batch
GENDER_SPELLINGS = (
    ("F", "M"),
    ("female", "male"),
    ("女", "男"),
    ("f", "m"),
    ("Female", "Male"),
)
TIMESTAMP_WEIGHTS = {
    messy.SPACE: 5,
    messy.SLASH: 2,
    messy.ISO_SHANGHAI: 2,
    messy.ISO_Z: 1,
}
PHONE_WEIGHTS = {
    messy.PLAIN: 6,
    messy.SPACED: 1,
    messy.DASHED: 1,
    messy.DOUBLE_ZERO: 0.5,
    messy.COUNTRY: 0.5,
    messy.PARENTHESES: 0.5,
    messy.E164: 1,
}
EMAIL_WEIGHTS = {messy.AS_IS: 8, messy.UPPER: 0.5, messy.TITLE: 1, messy.PADDED: 1}
MISSING_ID, BAD_UPDATED_AT, BAD_EMAIL, BAD_PHONE = 1, 2, 3, 4


def build(batch: Batch) -> pa.Table:
    rng = batch.rng("crm_members")
    members = batch.who(batch.profiles.has_crm)
    is_new = batch.is_new[batch.profiles.has_crm]
    versions = np.where(is_new, 1 + choose(rng, len(members), VERSION_WEIGHTS), 0)
    versions += ~is_new & (rng.random(len(members)) < UPDATE_SHARE)
    row_member = np.repeat(np.arange(len(members)), versions)
    rows = members.take(row_member)
    version = rank_within(versions)
    is_latest = version == np.repeat(versions, versions) - 1
    size = len(row_member)

    registered = np.maximum(rows.since, batch.world.window(0)[0])
    updated = _updated_at(
        batch, rng, registered, version, np.repeat(versions, versions)
    )
    # Keep the trap and erasure people's member rows valid so the traps always exist.
    erasure = np.isin(rows.person, batch.world.erasure_requesters())
    protected = (rows.family_head < 0) & (rows.ipad < 0) & ~erasure
    bad = messy.plan_bad_rows(rng, size, BAD_ROW_SHARE, 4, eligible=protected)

    member_id = messy.pad(rng, ids.member_id(rows.person), 0.02)
    has_card = rng.random(size) < 0.95
    has_email = (rng.random(size) < 0.85) & (is_latest | (rng.random(size) < 0.7))
    has_phone = (rng.random(size) < 0.9) | (rows.family_head >= 0)
    email_values = messy.emails(
        rng, ids.email(batch.world, ids.email_key(rows.person)), EMAIL_WEIGHTS
    )
    phone_numbers = ids.phone_number(batch.world, rows.person)
    columns = {
        "member_id": messy.blank_out(rng, member_id, bad == MISSING_ID),
        "member_card_no": messy.blank_out(
            rng, messy.pad(rng, ids.member_card(rows.person), 0.01), ~has_card
        ),
        "name": _names(rng, rows, is_latest),
        "email": messy.replace_with(
            rng,
            messy.blank_out(rng, email_values, ~has_email),
            bad == BAD_EMAIL,
            messy.BAD_EMAILS,
        ),
        "phone": messy.replace_with(
            rng,
            messy.blank_out(
                rng, messy.phones(rng, phone_numbers, PHONE_WEIGHTS), ~has_phone
            ),
            bad == BAD_PHONE,
            messy.BAD_PHONES,
        ),
        "gender": _genders(rng, rows.is_female, is_latest),
        "birthday": messy.blank_out(
            rng, messy.dates(rng, rows.birthday, 0.1), rng.random(size) < 0.25
        ),
        "city": _cities(rng, rows.city, is_latest),
        "registered_at": messy.timestamps(rng, registered, TIMESTAMP_WEIGHTS),
        "updated_at": messy.replace_with(
            rng,
            messy.timestamps(rng, updated, TIMESTAMP_WEIGHTS),
            bad == BAD_UPDATED_AT,
            messy.BAD_TIMESTAMPS,
        ),
    }
    good = bad == 0
    batch.sightings.add(ids.MEMBER_ID, rows.person, rows.person, good)
    batch.sightings.add(ids.MEMBER_CARD, rows.person, rows.person, good & has_card)
    batch.sightings.add(
        ids.EMAIL, rows.person, ids.email_key(rows.person), good & has_email
    )
    batch.sightings.add(ids.PHONE, rows.person, phone_numbers, good & has_phone)
    return batch.table("crm_members", columns, rng)


def _updated_at(
    batch: Batch,
    rng: np.random.Generator,
    registered: np.ndarray,
    version: np.ndarray,
    versions: np.ndarray,
) -> np.ndarray:
    """Versions spread between registration and the end of the window, in order."""
    start, end = batch.window
    if batch.number > 0:
        return batch.times(rng, np.full(len(version), start))
    span = np.maximum(end - registered - 1, 1)
    step = span // np.maximum(versions, 1)
    offset = (rng.random(len(version)) * step).astype(np.int64)
    return registered + version * step + np.where(version == 0, offset // 50, offset)


def _names(rng: np.random.Generator, rows: Profiles, is_latest: np.ndarray) -> pa.Array:
    names = ids.display_names(
        rows.is_chinese, rows.is_female, rows.name_first, rows.name_second
    )
    sloppy = ~is_latest & ~rows.is_chinese
    names = text.where(sloppy, pc.utf8_lower(names), names)
    spaced = rng.random(len(names)) < 0.02
    names = text.where(spaced, text.join(" ", names, " "), names)
    return messy.blank_out(rng, names, rng.random(len(names)) < 0.02)


def _genders(
    rng: np.random.Generator, is_female: np.ndarray, is_latest: np.ndarray
) -> pa.Array:
    spelling = choose(rng, len(is_female), (5, 2, 2, 1, 1))
    flat = [value for pair in GENDER_SPELLINGS for value in pair]
    genders = text.pick(flat, spelling * 2 + (~is_female).astype(np.int64))
    unknown = rng.random(len(is_female)) < 0.03
    genders = text.where(unknown, "U", genders)
    missing = (rng.random(len(is_female)) < 0.06) | (
        ~is_latest & (rng.random(len(is_female)) < 0.3)
    )
    return messy.blank_out(rng, genders, missing)


def _cities(
    rng: np.random.Generator, city: np.ndarray, is_latest: np.ndarray
) -> pa.Array:
    size = len(city)
    moved_from = rng.integers(0, len(vocab.CITIES), size)
    shown = np.where(is_latest, city, moved_from)
    hanzi = text.pick([h for h, _ in vocab.CITIES], shown)
    latin = text.pick([p for _, p in vocab.CITIES], shown)
    style = choose(rng, size, (7, 1.5, 1, 0.5))
    cities = text.where(style == 1, latin, hanzi)
    cities = text.where(style == 2, text.join(hanzi, "市"), cities)
    cities = text.where(style == 3, pc.utf8_lower(latin), cities)
    return messy.blank_out(rng, cities, rng.random(size) < 0.04)
