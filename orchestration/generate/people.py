"""The people behind the data: who exists, which systems know them, the traps they set.

Person attributes are counter-based hashes of (seed, person number), so the profile of any
subset of people can be rebuilt in any batch (returning people reuse their identifiers)
without generating everyone.

Batch 0 holds people 0..size-1. Batch k >= 1 adds ``new_per_batch`` new people (numbered
after everyone before them) and brings back ``returning_per_batch`` people of batch 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from orchestration.generate import vocab
from orchestration.generate.streams import categorical, stream, uniform

DAY = 86_400
WINDOW_START = int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp())
WINDOW_END = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())
MAX_PEOPLE = 12_000_000  # identifier spaces (8-digit member numbers, email tokens) fit

SYSTEM_SHARES = {
    "crm": 0.65,
    "online": 0.55,
    "web": 0.50,
    "app": 0.30,
    "pos": 0.40,
    "wechat": 0.35,
    "tickets": 0.10,
    "consent": 0.60,
}
COOKIE_COUNT_WEIGHTS = (0.45, 0.25, 0.15, 0.10, 0.05)  # 1..5 cookies
COOKIE_CHAIN_SHARE = 0.03  # members whose cookie is reset often (8..30 cookies)
NEW_SHARE_PER_BATCH = 0.004
RETURNING_SHARE_PER_BATCH = 0.006


@dataclass(frozen=True)
class World:
    """Everything a batch needs to know about the generated population and its time."""

    seed: int
    size: int

    @property
    def new_per_batch(self) -> int:
        return max(1, round(self.size * NEW_SHARE_PER_BATCH))

    @property
    def returning_per_batch(self) -> int:
        return max(1, round(self.size * RETURNING_SHARE_PER_BATCH))

    def window(self, batch: int) -> tuple[int, int]:
        """[start, end) epoch seconds of the activity in a batch: two years for batch 0,
        then one day per batch."""
        if batch == 0:
            return WINDOW_START, WINDOW_END
        return WINDOW_END + (batch - 1) * DAY, WINDOW_END + batch * DAY

    def loaded_at(self, batch: int) -> int:
        """When a batch was loaded (one hour after its window closed)."""
        return self.window(batch)[1] + 3600

    def cohort(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """(people active in a batch sorted by number, whether each is new in it)."""
        if batch == 0:
            people = np.arange(self.size, dtype=np.int64)
            return people, np.ones(self.size, dtype=bool)
        first_new = self.size + (batch - 1) * self.new_per_batch
        new = np.arange(first_new, first_new + self.new_per_batch, dtype=np.int64)
        rng = stream(self.seed, batch, "returning people")
        count = min(self.returning_per_batch, self.size)
        returning = np.sort(rng.choice(self.size, size=count, replace=False)).astype(
            np.int64
        )
        people = np.concatenate([returning, new])
        return people, np.concatenate(
            [np.zeros(len(returning), bool), np.ones(len(new), bool)]
        )

    # --- archetypes placed at fixed positions among batch-0 people -----------------------

    def family_heads(self) -> np.ndarray:
        """First member of each family (families are people h, h+1 and maybe h+2)."""
        if self.size < 6:
            return np.zeros(0, dtype=np.int64)
        count = max(2, self.size // 400)
        stride = self.size // count
        return (np.arange(count, dtype=np.int64) * stride) // 3 * 3

    def ipad_users(self) -> np.ndarray:
        """Members who log in on a shop's shared iPad."""
        return self._spaced(max(6, self.size // 2500), offset=5)

    def ipad_count(self) -> int:
        return max(1, self.size // 250_000)

    def junk_guests(self) -> np.ndarray:
        """Guest buyers whose first order carries a junk email or the junk phone."""
        return self._spaced(max(4, self.size // 1000), offset=11)

    def erasure_requesters(self) -> np.ndarray:
        """Members who ask to be forgotten (deletion_requests in batch 0)."""
        return self._spaced(max(2, self.size // 5000), offset=17)

    def _spaced(self, count: int, offset: int) -> np.ndarray:
        count = min(count, self.size)
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        positions = offset + np.arange(count, dtype=np.int64) * (self.size // count)
        return np.unique(positions % self.size)

    def profiles(self, people: np.ndarray) -> Profiles:
        return Profiles.build(self, np.asarray(people, dtype=np.int64))


@dataclass
class Profiles:
    """Per-person attributes (one array element per person, in the order given)."""

    person: np.ndarray
    is_chinese: np.ndarray
    is_female: np.ndarray
    name_first: np.ndarray  # surname (Chinese) or first name (Latin) index
    name_second: np.ndarray  # given name (Chinese) or last name (Latin) index
    birthday: np.ndarray  # days since 1970-01-01
    city: np.ndarray
    since: (
        np.ndarray
    )  # epoch seconds the person became known (registration, first visit)
    has_crm: np.ndarray
    buys_online: np.ndarray
    has_web: np.ndarray
    has_app: np.ndarray
    has_pos: np.ndarray
    has_wechat: np.ndarray
    has_tickets: np.ndarray
    has_consent: np.ndarray
    family_head: np.ndarray  # -1 unless in a family (then the head's number)
    ipad: np.ndarray  # -1 unless the person uses a shared iPad (then its number)
    junk_guest: np.ndarray
    cookie_count: np.ndarray
    cookie_chain: np.ndarray
    device_count: np.ndarray
    guest_chain: np.ndarray
    has_unionid: np.ndarray
    home_store: np.ndarray

    def __len__(self) -> int:
        return len(self.person)

    @classmethod
    def build(cls, world: World, people: np.ndarray) -> Profiles:
        def u(salt: str) -> np.ndarray:
            return uniform(world.seed, salt, people)

        names = name_parts(world, people)
        systems = {name: u(name) < share for name, share in SYSTEM_SHARES.items()}

        family_head = family_head_of(world, people)
        ipad = _ipad_of(world, people)
        junk_guest = np.isin(people, world.junk_guests()) & (people < world.size)
        erasure = np.isin(people, world.erasure_requesters()) & (people < world.size)
        systems["crm"] |= (family_head >= 0) | (ipad >= 0) | erasure
        systems["app"] |= ipad >= 0
        systems["online"] |= junk_guest
        _ensure_one_system(systems, u("fallback system"))

        chain = (
            systems["web"] & systems["crm"] & (u("cookie chain") < COOKIE_CHAIN_SHARE)
        )
        cookies = np.where(
            chain,
            8 + (u("chain length") * 23).astype(np.int64),
            1 + categorical(u("cookies"), COOKIE_COUNT_WEIGHTS),
        )
        window_start, window_end = world.window(0)
        span = window_end - window_start
        joined_batch = np.maximum(people - world.size, -1) // world.new_per_batch + 1
        since = np.where(
            people < world.size,
            window_start + (u("since") ** 1.4 * 0.9 * span).astype(np.int64),
            # people new in a later batch become known early in that batch's day
            WINDOW_END
            + (joined_batch - 1) * DAY
            + (u("since") * DAY / 2).astype(np.int64),
        )
        return cls(
            person=people,
            is_chinese=names.is_chinese,
            is_female=names.is_female,
            name_first=names.first,
            name_second=names.second,
            birthday=(-5_479 + u("birthday") * 18_993).astype(np.int64),  # 1955..2006
            city=categorical(u("city"), vocab.CITY_WEIGHTS),
            since=since,
            has_crm=systems["crm"],
            buys_online=systems["online"],
            has_web=systems["web"],
            has_app=systems["app"],
            has_pos=systems["pos"],
            has_wechat=systems["wechat"],
            has_tickets=systems["tickets"],
            has_consent=systems["consent"],
            family_head=family_head,
            ipad=ipad,
            junk_guest=junk_guest,
            cookie_count=cookies,
            cookie_chain=chain,
            device_count=1 + (u("devices") < 0.2),
            guest_chain=u("guest chain") < 0.35,
            has_unionid=u("unionid") < 0.7,
            home_store=(u("home store") * vocab.STORE_COUNT).astype(np.int64),
        )

    def take(self, rows: np.ndarray) -> Profiles:
        """The profiles of a subset (rows index into this object)."""
        return Profiles(**{name: value[rows] for name, value in vars(self).items()})


def _latin_first_size(is_female: np.ndarray) -> np.ndarray:
    return np.where(
        is_female, len(vocab.LATIN_FIRST_FEMALE), len(vocab.LATIN_FIRST_MALE)
    )


def _chinese_given_size(is_female: np.ndarray) -> np.ndarray:
    return np.where(
        is_female, len(vocab.CHINESE_GIVEN_FEMALE), len(vocab.CHINESE_GIVEN_MALE)
    )


@dataclass(frozen=True)
class NameParts:
    is_chinese: np.ndarray
    is_female: np.ndarray
    first: np.ndarray  # surname (Chinese) or first name (Latin) index
    second: np.ndarray  # given name (Chinese) or last name (Latin) index


def name_parts(world: World, people: np.ndarray) -> NameParts:
    """The name of each person, as indices into the vocab lists."""
    is_chinese = uniform(world.seed, "chinese", people) < 0.78
    is_female = uniform(world.seed, "female", people) < 0.55
    first_pool = np.where(
        is_chinese, len(vocab.CHINESE_SURNAMES), _latin_first_size(is_female)
    )
    second_pool = np.where(
        is_chinese, _chinese_given_size(is_female), len(vocab.LATIN_LAST)
    )
    return NameParts(
        is_chinese=is_chinese,
        is_female=is_female,
        first=(uniform(world.seed, "name first", people) * first_pool).astype(np.int64),
        second=(uniform(world.seed, "name second", people) * second_pool).astype(
            np.int64
        ),
    )


def family_head_of(world: World, people: np.ndarray) -> np.ndarray:
    """The family head's number for people in a family (who share its phone), else -1."""
    heads = world.family_heads()
    base = people - people % 3
    is_head_base = np.isin(base, heads) & (people < world.size)
    size = 2 + (uniform(world.seed, "family size", base) < 0.5)
    in_family = is_head_base & (people % 3 < size) & (base + size - 1 < world.size)
    return np.where(in_family, base, -1)


def _ipad_of(world: World, people: np.ndarray) -> np.ndarray:
    users = world.ipad_users()
    position = np.searchsorted(users, people)
    found = (position < len(users)) & (people < world.size)
    found &= (
        users[np.minimum(position, len(users) - 1)] == people if len(users) else False
    )
    return np.where(found, position % world.ipad_count(), -1)


def _ensure_one_system(systems: dict[str, np.ndarray], u: np.ndarray) -> None:
    """Everybody is known to at least one system that carries identifiers."""
    carrying = ("crm", "online", "web", "app", "pos", "wechat", "tickets")
    nobody = ~np.logical_or.reduce([systems[name] for name in carrying])
    fallback = categorical(u, (3, 3, 2, 2))
    for code, name in enumerate(("web", "online", "pos", "wechat")):
        systems[name] |= nobody & (fallback == code)
