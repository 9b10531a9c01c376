"""Identifier values: integer keys per identifier type, their canonical (normalised) text,
and the record of which person was seen with which identifier.

Keys make identity cheap to track: a key is a small integer that determines the value.

=============  ================================  ===========================================
type           key                               canonical value
=============  ================================  ===========================================
member_id      person                            M00001234
member_card    person                            C8800001234
email          person * 8 + n  (junk: -1..-3)    zhang.wei38172649@163.com (lower-case)
phone          the 11-digit number               +8613800138000
anonymous_id   person * 64 + n                   uuid, lower-case
device_id      person * 4 + n  (iPads: -1, -2..) UUID, upper-case
openid         person                            o + 27 characters
unionid        person                            u + 27 characters
=============  ================================  ===========================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generate import text, vocab
from orchestration.generate.contract import IDENTIFIER_TYPES
from orchestration.generate.people import World, family_head_of, name_parts
from orchestration.generate.streams import categorical, hash64, uniform

# Identifier type codes: positions in contract.IDENTIFIER_TYPES.
(MEMBER_ID, MEMBER_CARD, EMAIL, PHONE, ANONYMOUS_ID, DEVICE_ID, OPENID, UNIONID) = (
    IDENTIFIER_TYPES.index(name)
    for name in (
        "member_id",
        "member_card",
        "email",
        "phone",
        "anonymous_id",
        "device_id",
        "openid",
        "unionid",
    )
)

EMAILS_PER_PERSON = 8
PHONES_PER_PERSON = 4
COOKIES_PER_PERSON = 64
DEVICES_PER_PERSON = 4
_TOKEN_SPACE = 10**8
_BASE64URL = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8
)


def member_id(people: np.ndarray) -> pa.Array:
    return text.fixed([b"M", text.digits(np.asarray(people) + 1, 8)], len(people))


def member_card(people: np.ndarray) -> pa.Array:
    return text.fixed([b"C88", text.digits(np.asarray(people) + 1, 8)], len(people))


def email_key(people: np.ndarray, number: np.ndarray | int = 0) -> np.ndarray:
    return np.asarray(people, dtype=np.int64) * EMAILS_PER_PERSON + number


def junk_email_key(index: np.ndarray) -> np.ndarray:
    return -1 - np.asarray(index, dtype=np.int64)


def cookie_key(people: np.ndarray, number: np.ndarray) -> np.ndarray:
    return np.asarray(people, dtype=np.int64) * COOKIES_PER_PERSON + number


def device_key(people: np.ndarray, number: np.ndarray) -> np.ndarray:
    return np.asarray(people, dtype=np.int64) * DEVICES_PER_PERSON + number


def ipad_key(ipad: np.ndarray) -> np.ndarray:
    return -1 - np.asarray(ipad, dtype=np.int64)


def _bijection(seed: int, salt: str, keys: np.ndarray, modulus: int) -> np.ndarray:
    """A seed-dependent permutation of 0..modulus-1 (affine, multiplier coprime to 10)."""
    offset = int(hash64(seed, salt, np.zeros(1))[0] % np.uint64(modulus))
    return (np.asarray(keys, dtype=np.int64) * 7_654_321 + offset) % modulus


def phone_number(
    world: World, people: np.ndarray, number: np.ndarray | int = 0
) -> np.ndarray:
    """A person's n-th mobile number (11 digits). Number 0 of a family member is the
    family's shared phone; every other number is unique to its person."""
    people = np.asarray(people, dtype=np.int64)
    number = np.broadcast_to(np.asarray(number, dtype=np.int64), people.shape)
    family_head = family_head_of(world, people)
    owner = np.where((number == 0) & (family_head >= 0), family_head, people)
    key = owner * PHONES_PER_PERSON + number
    suffix = _bijection(world.seed, "phone", key, _TOKEN_SPACE)
    prefixes = np.asarray(vocab.MOBILE_PREFIXES, dtype=np.int64)
    prefix = prefixes[
        (uniform(world.seed, "phone prefix", key) * len(prefixes)).astype(int)
    ]
    prefix = np.where(
        (prefix == vocab.JUNK_PHONE // _TOKEN_SPACE) & (suffix == 0), 139, prefix
    )
    return prefix * _TOKEN_SPACE + suffix


def phone_e164(numbers: np.ndarray) -> pa.Array:
    return text.fixed([b"+86", text.digits(numbers, 11)], len(numbers))


def email(world: World, keys: np.ndarray) -> pa.Array:
    """Canonical (lower-case) email addresses for email keys."""
    keys = np.asarray(keys, dtype=np.int64)
    junk = keys < 0
    real = np.where(junk, 0, keys)
    people = real // EMAILS_PER_PERSON
    names = name_parts(world, people)
    token = text.integers(_bijection(world.seed, "email", real, _TOKEN_SPACE))
    domain = categorical(
        uniform(world.seed, "email domain", real), vocab.EMAIL_DOMAIN_WEIGHTS
    )
    first, second = _ascii_names(
        names.is_chinese, names.is_female, names.first, names.second
    )
    pattern = (uniform(world.seed, "email pattern", real) * 4).astype(np.int64)
    local = text.by_group(
        np.where(domain == 0, 4, pattern),
        lambda code, rows: _local_part(
            code, first.take(rows), second.take(rows), token.take(rows)
        ),
    )
    addresses = text.join(local, "@", text.pick(vocab.EMAIL_DOMAINS, domain))
    junk_values = text.pick(vocab.JUNK_EMAILS, np.where(junk, -1 - keys, 0))
    return text.where(junk, junk_values, addresses)


def _local_part(
    code: int, first: pa.Array, second: pa.Array, token: pa.Array
) -> pa.Array:
    if code == 0:
        return text.join(first, ".", second, token)
    if code == 1:
        return text.join(second, first, token)
    if code == 2:
        return text.join(first, "_", second, "_", token)
    if code == 3:
        return text.join(second, ".", first, token)
    qq_number = pc.add(pc.cast(token, pa.int64()), 100_000_000)
    return pc.cast(qq_number, pa.string())  # qq.com: a 9-digit QQ number


def _ascii_names(
    is_chinese: np.ndarray, is_female: np.ndarray, first: np.ndarray, second: np.ndarray
) -> tuple[pa.Array, pa.Array]:
    """(given or first name, surname or last name) in ASCII, for email local parts."""
    surname = text.pick(
        [p for _, p in vocab.CHINESE_SURNAMES], np.where(is_chinese, first, 0)
    )
    given_f = text.pick(
        [p for _, p in vocab.CHINESE_GIVEN_FEMALE],
        _clip(second, is_chinese & is_female),
    )
    given_m = text.pick(
        [p for _, p in vocab.CHINESE_GIVEN_MALE], _clip(second, is_chinese & ~is_female)
    )
    latin_f = text.pick(
        [a for _, a in vocab.LATIN_FIRST_FEMALE], _clip(first, ~is_chinese & is_female)
    )
    latin_m = text.pick(
        [a for _, a in vocab.LATIN_FIRST_MALE], _clip(first, ~is_chinese & ~is_female)
    )
    last = text.pick([a for _, a in vocab.LATIN_LAST], _clip(second, ~is_chinese))
    given = text.where(is_female, given_f, given_m)
    latin_first = text.where(is_female, latin_f, latin_m)
    return (
        text.where(is_chinese, given, latin_first),
        text.where(is_chinese, surname, last),
    )


def display_names(
    is_chinese: np.ndarray, is_female: np.ndarray, first: np.ndarray, second: np.ndarray
) -> pa.Array:
    """Names as people write them: 张伟, or 'Chloé Dubois'."""
    surname = text.pick(
        [h for h, _ in vocab.CHINESE_SURNAMES], np.where(is_chinese, first, 0)
    )
    given_f = text.pick(
        [h for h, _ in vocab.CHINESE_GIVEN_FEMALE],
        _clip(second, is_chinese & is_female),
    )
    given_m = text.pick(
        [h for h, _ in vocab.CHINESE_GIVEN_MALE], _clip(second, is_chinese & ~is_female)
    )
    latin_f = text.pick(
        [d for d, _ in vocab.LATIN_FIRST_FEMALE], _clip(first, ~is_chinese & is_female)
    )
    latin_m = text.pick(
        [d for d, _ in vocab.LATIN_FIRST_MALE], _clip(first, ~is_chinese & ~is_female)
    )
    last = text.pick([d for d, _ in vocab.LATIN_LAST], _clip(second, ~is_chinese))
    chinese = text.join(surname, text.where(is_female, given_f, given_m))
    latin = text.join(text.where(is_female, latin_f, latin_m), " ", last)
    return text.where(is_chinese, chinese, latin)


def _clip(index: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return np.where(valid, index, 0)


def _uuid_words(
    seed: int, salt: str, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    return hash64(seed, salt + " high", keys), hash64(seed, salt + " low", keys)


def uuid_text(seed: int, salt: str, keys: np.ndarray, upper: bool = False) -> pa.Array:
    """uuid-like (version 4 layout) text derived from keys: 8-4-4-4-12 hex digits."""
    high, low = _uuid_words(seed, salt, keys)
    a = text.byte_matrix(text.hex_digits(high))
    b = text.byte_matrix(text.hex_digits(low))
    a[:, 12] = ord("4")
    b[:, 0] = np.frombuffer(b"89ab", dtype=np.uint8)[b[:, 0] % 4]
    if upper:
        a = np.where(a >= ord("a"), a - 32, a).astype(np.uint8)
        b = np.where(b >= ord("a"), b - 32, b).astype(np.uint8)
    parts = [
        text.byte_column(m)
        for m in (a[:, :8], a[:, 8:12], a[:, 12:16], b[:, :4], b[:, 4:16])
    ]
    return text.fixed(
        [parts[0], b"-", parts[1], b"-", parts[2], b"-", parts[3], b"-", parts[4]],
        len(keys),
    )


def anonymous_id(world: World, keys: np.ndarray) -> pa.Array:
    return uuid_text(world.seed, "anonymous_id", keys)


def device_id(world: World, keys: np.ndarray) -> pa.Array:
    return uuid_text(world.seed, "device_id", keys, upper=True)


def _wechat_id(seed: int, salt: str, prefix: bytes, people: np.ndarray) -> pa.Array:
    people = np.asarray(people, dtype=np.int64)
    words = [hash64(seed, f"{salt} {n}", people) for n in range(3)]
    matrix = np.empty((len(people), 27), dtype=np.uint8)
    for position in range(27):
        word, slot = divmod(position, 10)
        sixbits = (words[word] >> np.uint64(6 * slot)) & np.uint64(63)
        matrix[:, position] = _BASE64URL[sixbits.astype(np.intp)]
    return text.fixed([prefix, text.byte_column(matrix)], len(people))


def openid(world: World, people: np.ndarray) -> pa.Array:
    return _wechat_id(world.seed, "openid", b"o", people)


def unionid(world: World, people: np.ndarray) -> pa.Array:
    return _wechat_id(world.seed, "unionid", b"u", people)


def canonical(world: World, kind: int, keys: np.ndarray) -> pa.Array:
    """Normalised text of identifier keys of one type (the form truth lists)."""
    if kind == MEMBER_ID:
        return member_id(keys)
    if kind == MEMBER_CARD:
        return member_card(keys)
    if kind == EMAIL:
        return email(world, keys)
    if kind == PHONE:
        return phone_e164(keys)
    if kind == ANONYMOUS_ID:
        return anonymous_id(world, keys)
    if kind == DEVICE_ID:
        return device_id(world, keys)
    if kind == OPENID:
        return openid(world, keys)
    if kind == UNIONID:
        return unionid(world, keys)
    raise ValueError(f"unknown identifier type {kind}")


@dataclass
class Sightings:
    """Which person was seen with which identifier, in rows that staging will accept."""

    person: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    key: list[np.ndarray] = field(default_factory=list)

    _distinct: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, repr=False, compare=False
    )

    def add(
        self, kind: int, people: np.ndarray, keys: np.ndarray, mask: np.ndarray
    ) -> None:
        self._distinct = None
        mask = np.asarray(mask, dtype=bool)
        self.person.append(np.asarray(people, dtype=np.int64)[mask])
        self.key.append(np.asarray(keys, dtype=np.int64)[mask])
        self.kind.append(np.full(int(mask.sum()), kind, dtype=np.int8))

    def extend(self, other: Sightings) -> None:
        self._distinct = None
        self.person += other.person
        self.kind += other.kind
        self.key += other.key

    def distinct(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unique (person, kind, key) triples sorted by person, kind, key."""
        if self._distinct is None:
            self._distinct = self._compute_distinct()
        return self._distinct

    def _compute_distinct(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.person:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.astype(np.int8), empty
        person = np.concatenate(self.person)
        kind = np.concatenate(self.kind)
        key = np.concatenate(self.key)
        order = np.lexsort((key, kind, person))
        person, kind, key = person[order], kind[order], key[order]
        keep = np.ones(len(person), dtype=bool)
        keep[1:] = (
            (person[1:] != person[:-1])
            | (kind[1:] != kind[:-1])
            | (key[1:] != key[:-1])
        )
        return person[keep], kind[keep], key[keep]
