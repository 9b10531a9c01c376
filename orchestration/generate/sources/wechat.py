"""wechat_followers: one row per follower of the official account (openid always, unionid
when the account is linked to the open platform, phone when the follower shared it)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generate import identifiers as ids
from orchestration.generate import messy, text, vocab
from orchestration.generate.batch import BAD_ROW_SHARE, Batch

TIMESTAMP_WEIGHTS = {messy.SPACE: 6, messy.ISO_SHANGHAI: 3, messy.ISO_Z: 1}
PHONE_WEIGHTS = {messy.PLAIN: 6, messy.E164: 2, messy.COUNTRY: 1, messy.PARENTHESES: 1}
MISSING_ID, BAD_SUBSCRIBED_AT, BAD_PHONE = 1, 2, 3


def build(batch: Batch) -> pa.Table:
    rng = batch.rng("wechat_followers")
    followers = batch.who(batch.profiles.has_wechat & batch.is_new)
    size = len(followers)
    subscribed = batch.times(rng, followers.since)
    _, end = batch.window
    unsubscribed = subscribed + (rng.random(size) * (end - subscribed)).astype(np.int64)
    has_unsubscribed = rng.random(size) < 0.15
    has_phone = rng.random(size) < 0.35
    numbers = ids.phone_number(batch.world, followers.person)
    bad = messy.plan_bad_rows(rng, size, BAD_ROW_SHARE, 3)
    columns = {
        "openid": messy.blank_out(
            rng, ids.openid(batch.world, followers.person), bad == MISSING_ID
        ),
        "unionid": messy.blank_out(
            rng, ids.unionid(batch.world, followers.person), ~followers.has_unionid
        ),
        "phone": messy.replace_with(
            rng,
            messy.blank_out(rng, messy.phones(rng, numbers, PHONE_WEIGHTS), ~has_phone),
            bad == BAD_PHONE,
            messy.BAD_PHONES,
        ),
        "nickname": _nicknames(rng, size),
        "city": messy.blank_out(
            rng,
            text.pick([p for _, p in vocab.CITIES], followers.city),
            rng.random(size) < 0.2,
        ),
        "subscribed_at": messy.replace_with(
            rng,
            messy.timestamps(rng, subscribed, TIMESTAMP_WEIGHTS),
            bad == BAD_SUBSCRIBED_AT,
            messy.BAD_TIMESTAMPS,
        ),
        "unsubscribed_at": messy.blank_out(
            rng,
            messy.timestamps(rng, unsubscribed, TIMESTAMP_WEIGHTS),
            ~has_unsubscribed,
        ),
    }
    good = bad == 0
    person = followers.person
    batch.sightings.add(ids.OPENID, person, person, good)
    batch.sightings.add(ids.UNIONID, person, person, good & followers.has_unionid)
    batch.sightings.add(ids.PHONE, person, numbers, good & has_phone)
    return batch.table("wechat_followers", columns, rng)


def _nicknames(rng: np.random.Generator, size: int) -> pa.Array:
    names = text.pick(
        vocab.WECHAT_NICKNAMES, rng.integers(0, len(vocab.WECHAT_NICKNAMES), size)
    )
    emoji = text.pick(vocab.EMOJIS, rng.integers(0, len(vocab.EMOJIS), size))
    style = rng.integers(0, 10, size)
    names = text.where(style == 0, text.join(emoji, names, emoji), names)
    names = text.where(style == 1, text.join(names, emoji), names)
    names = text.where(
        style == 2, text.join(names, text.integers(rng.integers(1, 999, size))), names
    )
    return messy.blank_out(rng, names, style == 3)
