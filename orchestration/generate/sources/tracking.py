"""web_events and app_events: sessions of page/screen events, anonymous until login.

Web: every event carries the browser's anonymous_id; user_id (the member_id) appears from
the login event on, for the rest of that cookie's life. A person uses 1-5 cookies over time;
members with a cookie "chain" get a new cookie every visit and log in once on each.
App: events carry the device_id and, once the member logged in on the device, the user_id.
Shops' shared iPads are logged into by many different members, one after the other.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generate import identifiers as ids
from orchestration.generate import messy, sessions, text, vocab
from orchestration.generate.batch import BAD_ROW_SHARE, Batch
from orchestration.generate.catalog import catalog
from orchestration.generate.groups import rank_within
from orchestration.generate.people import WINDOW_START, Profiles
from orchestration.generate.streams import choose, uniform

WEB_NAMES = ("page_view", "product_view", "search", "add_to_cart", "checkout", "login")
PAGE_VIEW, PRODUCT_VIEW, SEARCH, ADD_TO_CART, CHECKOUT, LOGIN = range(6)
APP_NAMES = (
    "app_open",
    "product_view",
    "add_to_cart",
    "checkout",
    "push_open",
    "login",
)
APP_OPEN, APP_PRODUCT_VIEW, APP_ADD_TO_CART, APP_CHECKOUT, PUSH_OPEN, APP_LOGIN = range(
    6
)
WEB_TIMESTAMPS = {messy.ISO_Z: 6, messy.ISO_MILLIS_UTC: 3, messy.SPACE: 1}
APP_TIMESTAMPS = {
    messy.ISO_MILLIS_UTC: 6,
    messy.ISO_Z: 2,
    messy.ISO_SHANGHAI: 1,
    messy.SPACE: 1,
}
WEB_LOGIN_SHARE = 0.55  # members' cookies that ever log in
APP_LOGIN_SHARE = 0.75  # members' devices that ever log in
MISSING_ID, BAD_TS = 1, 2


def build_web(batch: Batch) -> pa.Table:
    rng = batch.rng("web_events")
    users = batch.who(batch.profiles.has_web)
    session_counts = rng.geometric(1 / 3, len(users)).astype(np.int64)
    session_counts = np.where(users.cookie_chain, users.cookie_count, session_counts)
    plan = sessions.plan(batch, rng, users, session_counts, users.cookie_count)
    events = sessions.explode(batch, rng, plan, mean_events=4)
    user = plan.user[events.session]
    size = len(events)

    logged, is_login = _logins(
        rng, plan, events, users, WEB_LOGIN_SHARE, login_position=0
    )
    chain = users.cookie_chain[user]
    last_event = events.position == events.session_size - 1
    chain_login = chain & _slot_login_session(plan, events, rng, last=True) & last_event
    logged = np.where(chain, chain_login, logged)
    is_login = np.where(chain, chain_login, is_login)

    names = np.where(
        events.position == 0,
        np.where(rng.random(size) < 0.15, SEARCH, PAGE_VIEW),
        choose(rng, size, (30, 35, 10, 15, 10)),
    )
    names = np.where(is_login, LOGIN, names)
    product = catalog().popular(rng.random(size))
    page = rng.integers(0, 120, size)  # picks the page or search term (modulo)
    bad = messy.plan_bad_rows(rng, size, BAD_ROW_SHARE, 2, eligible=~logged)

    cookie_keys = ids.cookie_key(users.person[plan.user], plan.slot)  # one per session
    group_keys = np.zeros(plan.slot_group.max() + 1 if len(plan) else 0, dtype=np.int64)
    group_keys[plan.slot_group] = cookie_keys
    event_group = plan.slot_group[events.session]
    columns = {
        "event_id": messy.blank_out(rng, batch.ids("WE", size, 10), bad == MISSING_ID),
        "anonymous_id": text.take(
            ids.anonymous_id(batch.world, group_keys), event_group
        ),
        "user_id": messy.blank_out(
            rng, text.take(ids.member_id(users.person), user), ~logged
        ),
        "event_name": text.pick(WEB_NAMES, names),
        "page_url": _page_urls(names, product, page),
        "utm_source": _utm_sources(rng, events.position),
        "event_ts": messy.replace_with(
            rng,
            messy.timestamps(rng, events.ts, WEB_TIMESTAMPS),
            bad == BAD_TS,
            messy.BAD_TIMESTAMPS,
        ),
        "properties": _web_properties(rng, names, product, page),
    }
    good = bad == 0
    seen = sessions.any_per_group(event_group, good, len(group_keys))
    group_person = np.zeros(len(group_keys), dtype=np.int64)
    group_person[plan.slot_group] = users.person[plan.user]
    batch.sightings.add(ids.ANONYMOUS_ID, group_person, group_keys, seen)
    seen_logged = sessions.any_per_group(event_group, good & logged, len(group_keys))
    batch.sightings.add(ids.MEMBER_ID, group_person, group_person, seen_logged)
    return batch.table("web_events", columns, rng)


def _slot_login_session(
    plan: sessions.Sessions,
    events: sessions.Events,
    rng: np.random.Generator,
    last: bool,
) -> np.ndarray:
    """Per event: whether its session is the one its slot logs in at (first/last)."""
    if last:
        chosen = plan.slot_sessions - 1
    else:
        u = rng.random(plan.slot_group.max() + 1 if len(plan) else 0)
        chosen = (u[plan.slot_group] * plan.slot_sessions).astype(np.int64)
    return (plan.rank_in_slot == chosen)[events.session]


def _logins(
    rng: np.random.Generator,
    plan: sessions.Sessions,
    events: sessions.Events,
    users: Profiles,
    share: float,
    login_position: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(event carries user_id, event is the login) for members' slots that log in.

    A slot logs in at one of its sessions, at ``login_position`` within it (or its last
    event if shorter); from then on every event of that slot carries the user_id.
    """
    n_groups = plan.slot_group.max() + 1 if len(plan) else 0
    u_group = rng.random(n_groups)
    login_rank = rng.random(n_groups) * np.bincount(plan.slot_group, minlength=n_groups)
    login_rank = login_rank.astype(np.int64)
    slot_logs_in = (u_group < share)[plan.slot_group] & users.has_crm[plan.user]
    session_rank = plan.rank_in_slot
    at_login = slot_logs_in & (session_rank == login_rank[plan.slot_group])
    after_login = slot_logs_in & (session_rank > login_rank[plan.slot_group])
    position = np.minimum(login_position, events.session_size - 1)
    is_login = at_login[events.session] & (events.position == position)
    logged = after_login[events.session] | (
        at_login[events.session] & (events.position >= position)
    )
    return logged, is_login


def _utm_sources(rng: np.random.Generator, position: np.ndarray) -> pa.Array:
    size = len(position)
    tagged = (position == 0) & (rng.random(size) < 0.3)
    sources = text.pick(
        vocab.UTM_SOURCES, rng.integers(0, len(vocab.UTM_SOURCES), size)
    )
    return messy.blank_out(rng, sources, ~tagged)


class _Pool:
    """Pre-rendered strings; rows pick one by index (one Arrow take, no per-row joins)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.first: dict[str, int] = {}

    def add(self, name: str, values: list[str]) -> None:
        self.first[name] = len(self.values)
        self.values.extend(values)

    def at(self, name: str, index: np.ndarray | int) -> np.ndarray:
        return self.first[name] + np.asarray(index, dtype=np.int64)


CART_VALUES = 400  # distinct cart values rendered into checkout properties
SEARCH_RESULTS = 50


def _prices() -> list[str]:
    return messy.money_text(catalog().price_cents, messy.SHORT).to_pylist()


def _cart_values(seed: int) -> list[str]:
    values = np.random.default_rng(seed).integers(5_000, 300_000, CART_VALUES)
    return messy.money_text(values, messy.SHORT).to_pylist()


def _page_urls(names: np.ndarray, product: np.ndarray, page: np.ndarray) -> pa.Array:
    host = vocab.WEB_HOST
    pool = _Pool()
    pool.add("page", [host + path for path, _ in vocab.WEB_PAGES])
    pool.add("product", [f"{host}/products/{sku}" for sku in catalog().sku.to_pylist()])
    pool.add("search", [f"{host}/search?q={term}" for term in vocab.SEARCH_TERMS])
    pool.add("fixed", [f"{host}/cart", f"{host}/checkout", f"{host}/account/login"])
    index = np.select(
        [
            names == PAGE_VIEW,
            names == PRODUCT_VIEW,
            names == SEARCH,
            names == ADD_TO_CART,
            names == CHECKOUT,
        ],
        [
            pool.at("page", page % len(vocab.WEB_PAGES)),
            pool.at("product", product),
            pool.at("search", page % len(vocab.SEARCH_TERMS)),
            pool.at("fixed", 0),
            pool.at("fixed", 1),
        ],
        pool.at("fixed", 2),
    )
    return text.pick(pool.values, index)


def _web_properties(
    rng: np.random.Generator, names: np.ndarray, product: np.ndarray, page: np.ndarray
) -> pa.Array:
    size = len(names)
    skus, prices = catalog().sku.to_pylist(), _prices()
    pool = _Pool()
    pool.add("page", [f'{{"title":"{title}"}}' for _, title in vocab.WEB_PAGES])
    pool.add(
        "product",
        [
            f'{{"sku":"{sku}","price":{price},"currency":"CNY"}}'
            for sku, price in zip(skus, prices)
        ],
    )
    pool.add(
        "cart",
        [
            f'{{"sku":"{sku}","quantity":{quantity},"price":{price}}}'
            for quantity in (1, 2)
            for sku, price in zip(skus, prices)
        ],
    )
    pool.add(
        "search",
        [
            f'{{"query":"{term}","results":{results * 7}}}'
            for term in vocab.SEARCH_TERMS
            for results in range(SEARCH_RESULTS)
        ],
    )
    pool.add(
        "checkout",
        [
            f'{{"cart_value":{value},"items":{items}}}'
            for items in range(1, 6)
            for value in _cart_values(len(skus))
        ],
    )
    pool.add(
        "login", ['{"method":"password"}', '{"method":"sms"}', '{"method":"wechat"}']
    )
    term = page % len(vocab.SEARCH_TERMS)
    index = np.select(
        [
            names == PAGE_VIEW,
            names == PRODUCT_VIEW,
            names == ADD_TO_CART,
            names == SEARCH,
            names == CHECKOUT,
        ],
        [
            pool.at("page", page % len(vocab.WEB_PAGES)),
            pool.at("product", product),
            pool.at("cart", product + len(skus) * (rng.random(size) < 0.2)),
            pool.at(
                "search", term * SEARCH_RESULTS + rng.integers(0, SEARCH_RESULTS, size)
            ),
            pool.at("checkout", rng.integers(0, CART_VALUES * 5, size)),
        ],
        pool.at("login", choose(rng, size, (3, 5, 2))),
    )
    return text.pick(pool.values, index)


def build_app(batch: Batch) -> pa.Table:
    rng = batch.rng("app_events")
    users = batch.who(batch.profiles.has_app)
    session_counts = rng.geometric(1 / 3, len(users)).astype(np.int64)
    plan = sessions.plan(batch, rng, users, session_counts, users.device_count)
    events = sessions.explode(batch, rng, plan, mean_events=4.3)
    logged, is_login = _logins(
        rng, plan, events, users, APP_LOGIN_SHARE, login_position=1
    )
    names = np.where(
        events.position == 0,
        np.where(rng.random(len(events)) < 0.2, PUSH_OPEN, APP_OPEN),
        choose(rng, len(events), (5, 55, 25, 12, 3)),
    )
    names = np.where(is_login, APP_LOGIN, names)

    # Devices: one per (person, slot) group, then the shared iPads after them.
    n_own = plan.slot_group.max() + 1 if len(plan) else 0
    device_keys = np.zeros(n_own, dtype=np.int64)
    device_keys[plan.slot_group] = ids.device_key(users.person[plan.user], plan.slot)
    device_keys = np.concatenate(
        [device_keys, ids.ipad_key(np.arange(batch.world.ipad_count()))]
    )
    shared = _shared_ipad_events(batch, rng, users)
    person = np.concatenate([users.person[plan.user[events.session]], shared["person"]])
    device = np.concatenate([plan.slot_group[events.session], n_own + shared["ipad"]])
    logged = np.concatenate([logged, shared["logged"]])
    names = np.concatenate([names, shared["names"]])
    ts = np.concatenate([events.ts, shared["ts"]])
    size = len(ts)
    product = catalog().popular(rng.random(size))
    bad = messy.plan_bad_rows(rng, size, BAD_ROW_SHARE, 2, eligible=~logged)

    is_ios = (uniform(batch.seed, "device platform", device_keys) < 0.45) | (
        device_keys < 0
    )
    columns = {
        "event_id": messy.blank_out(rng, batch.ids("AE", size, 10), bad == MISSING_ID),
        "device_id": text.take(ids.device_id(batch.world, device_keys), device),
        "user_id": messy.blank_out(rng, ids.member_id(person), ~logged),
        "platform": text.pick(("android", "ios"), is_ios[device].astype(np.int64)),
        "app_version": _app_versions(rng, ts),
        "event_name": text.pick(APP_NAMES, names),
        "event_ts": messy.replace_with(
            rng,
            messy.timestamps(rng, ts, APP_TIMESTAMPS),
            bad == BAD_TS,
            messy.BAD_TIMESTAMPS,
        ),
        "properties": _app_properties(rng, names, product),
    }
    good = bad == 0
    own = np.arange(size) < len(events)
    group_person = np.zeros(n_own, dtype=np.int64)
    group_person[plan.slot_group] = users.person[plan.user]
    seen = sessions.any_per_group(device, good & own, n_own)
    batch.sightings.add(ids.DEVICE_ID, group_person, device_keys[:n_own], seen)
    seen_logged = sessions.any_per_group(device, good & own & logged, n_own)
    batch.sightings.add(ids.MEMBER_ID, group_person, group_person, seen_logged)
    on_ipad = good & ~own
    batch.sightings.add(ids.DEVICE_ID, person, device_keys[device], on_ipad)
    batch.sightings.add(ids.MEMBER_ID, person, person, on_ipad & logged)
    return batch.table("app_events", columns, rng)


def _shared_ipad_events(
    batch: Batch, rng: np.random.Generator, users: Profiles
) -> dict[str, np.ndarray]:
    """Members logging in on a shop's shared iPad: app_open (still anonymous), login, browse."""
    on_ipad = np.flatnonzero(users.ipad >= 0)
    visits = rng.integers(1, 4, len(on_ipad))
    visitor = np.repeat(on_ipad, visits)
    start = batch.times(rng, users.since[visitor])
    counts = 2 + rng.geometric(1 / 2, len(visitor)).astype(np.int64)
    event_visit = np.repeat(np.arange(len(visitor)), counts)
    position = rank_within(counts)
    names = np.where(
        position == 0,
        APP_OPEN,
        np.where(position == 1, APP_LOGIN, choose(rng, len(position), (0, 6, 3, 1, 0))),
    )
    ts = np.minimum(start[event_visit] + position * 30, batch.window[1] - 1)
    return {
        "person": users.person[visitor][event_visit],
        "ipad": users.ipad[visitor][event_visit],
        "logged": position >= 1,
        "names": names,
        "ts": ts,
    }


def _app_versions(rng: np.random.Generator, ts: np.ndarray) -> pa.Array:
    versions = len(vocab.APP_VERSIONS)
    age = (ts - WINDOW_START) / (2 * 365 * 86_400)
    current = np.clip((age * versions).astype(np.int64), 0, versions - 1)
    lagging = np.maximum(current - rng.integers(0, 2, len(ts)), 0)
    return text.pick(vocab.APP_VERSIONS, lagging)


def _app_properties(
    rng: np.random.Generator, names: np.ndarray, product: np.ndarray
) -> pa.Array:
    size = len(names)
    skus, prices = catalog().sku.to_pylist(), _prices()
    pool = _Pool()
    pool.add("screen", [f'{{"screen":"{screen}"}}' for screen in vocab.APP_SCREENS])
    pool.add(
        "product",
        [f'{{"sku":"{sku}","price":{price}}}' for sku, price in zip(skus, prices)],
    )
    pool.add(
        "checkout",
        [f'{{"cart_value":{value}}}' for value in _cart_values(len(skus) + 1)],
    )
    pool.add(
        "push", [f'{{"campaign_id":"cmp_{number:04d}"}}' for number in range(1, 300)]
    )
    pool.add(
        "login", ['{"method":"sms"}', '{"method":"password"}', '{"method":"wechat"}']
    )
    index = np.select(
        [
            names == APP_OPEN,
            np.isin(names, (APP_PRODUCT_VIEW, APP_ADD_TO_CART)),
            names == APP_CHECKOUT,
            names == PUSH_OPEN,
        ],
        [
            pool.at("screen", rng.integers(0, len(vocab.APP_SCREENS), size)),
            pool.at("product", product),
            pool.at("checkout", rng.integers(0, CART_VALUES, size)),
            pool.at("push", rng.integers(0, 299, size)),
        ],
        pool.at("login", choose(rng, size, (5, 3, 2))),
    )
    return text.pick(pool.values, index)
