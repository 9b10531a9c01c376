"""The mess real sources produce: many timestamp, phone, email and money spellings,
blank strings for nulls, exact duplicate rows and a few genuinely bad rows.

Every function takes canonical values (epoch seconds, 11-digit phone numbers, cents,
lower-case emails) and returns Arrow string arrays, vectorised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generate import text
from orchestration.generate.streams import choose

SHANGHAI_OFFSET_SECONDS = 8 * 3600

# Timestamp spellings. Naive spellings (SPACE, SLASH) are in UTC except where a source is
# documented as local time (POS: Asia/Shanghai), where the caller passes local seconds.
SPACE = "space"  # 2024-03-05 12:34:56
ISO_Z = "iso_z"  # 2024-03-05T12:34:56Z
ISO_SHANGHAI = "iso_shanghai"  # 2024-03-05T20:34:56+08:00
ISO_MILLIS_UTC = "iso_millis_utc"  # 2024-03-05T12:34:56.123+00:00
SLASH = "slash"  # 2024/03/05 12:34:56
TIMESTAMP_STYLES = (SPACE, ISO_Z, ISO_SHANGHAI, ISO_MILLIS_UTC, SLASH)

# Phone spellings of 13800138000.
PLAIN = "plain"  # 13800138000
SPACED = "spaced"  # 138 0013 8000
DASHED = "dashed"  # +86-138-0013-8000
DOUBLE_ZERO = "double_zero"  # 0086 13800138000
COUNTRY = "country"  # 8613800138000
PARENTHESES = "parentheses"  # (+86)13800138000
E164 = "e164"  # +8613800138000
PHONE_STYLES = (PLAIN, SPACED, DASHED, DOUBLE_ZERO, COUNTRY, PARENTHESES, E164)

# Email spellings of zhang.wei@qq.com.
AS_IS = "as_is"
UPPER = "upper"  # ZHANG.WEI@QQ.COM
TITLE = "title"  # Zhang.Wei@Qq.Com
PADDED = "padded"  # '  zhang.wei@qq.com '
EMAIL_STYLES = (AS_IS, UPPER, TITLE, PADDED)

# Money spellings of 129950 cents.
DECIMAL = "decimal"  # 1299.50
GROUPED = "grouped"  # ' 1,299.50 '
YUAN = "yuan"  # ¥1299.5 / ¥88
SHORT = "short"  # 1299.5 / 88
MONEY_STYLES = (DECIMAL, GROUPED, YUAN, SHORT)

BLANKS: tuple[str | None, ...] = ("", "", "", " ", "  ", None)
BAD_TIMESTAMPS = (
    "not a date",
    "2023-02-30 10:00:00",
    "2024-13-01 00:00:00",
    "0000-00-00 00:00:00",
    "31/12/2024 25:00",
    "N/A",
)
BAD_AMOUNTS = ("abc", "N/A", "12,34.5.6", "--", "one hundred")
BAD_EMAILS = (
    "foo@",
    "bar.com",
    "no-at-sign.example.com",
    "@qq.com",
    "a b@c",
    "x@@y.com",
)
BAD_PHONES = ("12345", "0000", "1380013800", "phone", "+86-12345")


@cache
def _day_table(separator: bytes) -> np.ndarray:
    """'YYYY-MM-DD' for every day 1900-01-01 .. 2199-12-31, as (days, 10) uint8."""
    days = np.arange(_FIRST_DAY, _FIRST_DAY + 109_573).astype("datetime64[D]")
    table = text.byte_matrix(np.datetime_as_string(days).astype("S10")).copy()
    table[:, [4, 7]] = separator[0]
    table.setflags(write=False)
    return table


@cache
def _time_table() -> np.ndarray:
    """'HH:MM:SS' for every second of a day, as (86400, 8) uint8."""
    second = np.arange(86_400)
    hms = np.stack([second // 3600, second // 60 % 60, second % 60], axis=1)
    table = np.full((86_400, 8), ord(":"), dtype=np.uint8)
    for position in range(3):
        table[:, 3 * position] = 48 + hms[:, position] // 10
        table[:, 3 * position + 1] = 48 + hms[:, position] % 10
    table.setflags(write=False)
    return table


_FIRST_DAY = -25_567  # 1900-01-01


def _date_part(days: np.ndarray, separator: bytes = b"-") -> np.ndarray:
    return text.byte_column(_day_table(separator)[days - _FIRST_DAY])


def timestamp_text(
    seconds: np.ndarray, style: str, millis: np.ndarray | None = None
) -> pa.Array:
    """One spelling for all rows. ``seconds`` are epoch seconds of the wall time to print
    (UTC, or local for sources documented as local)."""
    seconds = np.asarray(seconds, dtype=np.int64)
    if style == ISO_SHANGHAI:
        seconds = seconds + SHANGHAI_OFFSET_SECONDS
    days, second_of_day = np.divmod(seconds, 86_400)
    date = _date_part(days, b"/" if style == SLASH else b"-")
    clock = text.byte_column(_time_table()[second_of_day])
    size = len(seconds)
    if style in (SPACE, SLASH):
        return text.fixed([date, b" ", clock], size)
    if style == ISO_Z:
        return text.fixed([date, b"T", clock, b"Z"], size)
    if style == ISO_SHANGHAI:
        return text.fixed([date, b"T", clock, b"+08:00"], size)
    if style == ISO_MILLIS_UTC:
        fraction = text.digits(millis if millis is not None else np.zeros(size), 3)
        return text.fixed([date, b"T", clock, b".", fraction, b"+00:00"], size)
    raise ValueError(f"unknown timestamp style {style!r}")


def timestamps(
    rng: np.random.Generator, seconds: np.ndarray, weights: Mapping[str, float]
) -> pa.Array:
    """Each row spelled in a style drawn with the given weights."""
    styles = list(weights)
    codes = choose(rng, len(seconds), list(weights.values()))
    millis = rng.integers(0, 1000, len(seconds))
    return text.by_group(
        codes,
        lambda code, rows: timestamp_text(seconds[rows], styles[code], millis[rows]),
    )


def dates(rng: np.random.Generator, days: np.ndarray, loose_share: float) -> pa.Array:
    """'1990-05-17', or '1990/5/17' for a share of rows."""
    days = np.asarray(days, dtype=np.int64)
    loose = rng.random(len(days)) < loose_share

    def build(code: int, rows: np.ndarray) -> pa.Array:
        if code == 0:
            return text.fixed([_date_part(days[rows])], len(rows))
        calendar = days[rows].astype("datetime64[D]")
        year = calendar.astype("datetime64[Y]").astype(np.int64) + 1970
        month = calendar.astype("datetime64[M]").astype(np.int64) % 12 + 1
        day = (calendar - calendar.astype("datetime64[M]")).astype(np.int64) + 1
        return text.join(
            text.integers(year), "/", text.integers(month), "/", text.integers(day)
        )

    return text.by_group(loose.astype(np.int8), build)


def phone_text(numbers: np.ndarray, style: str) -> pa.Array:
    """One spelling of 11-digit mainland mobile numbers."""
    size = len(numbers)
    number = text.digits(numbers, 11)
    if style == PLAIN:
        return text.fixed([number], size)
    if style == E164:
        return text.fixed([b"+86", number], size)
    if style == DOUBLE_ZERO:
        return text.fixed([b"0086 ", number], size)
    if style == COUNTRY:
        return text.fixed([b"86", number], size)
    if style == PARENTHESES:
        return text.fixed([b"(+86)", number], size)
    matrix = text.byte_matrix(number)
    head, middle, tail = (
        text.byte_column(matrix[:, a:b]) for a, b in ((0, 3), (3, 7), (7, 11))
    )
    if style == SPACED:
        return text.fixed([head, b" ", middle, b" ", tail], size)
    if style == DASHED:
        return text.fixed([b"+86-", head, b"-", middle, b"-", tail], size)
    raise ValueError(f"unknown phone style {style!r}")


def phones(
    rng: np.random.Generator, numbers: np.ndarray, weights: Mapping[str, float]
) -> pa.Array:
    styles = list(weights)
    codes = choose(rng, len(numbers), list(weights.values()))
    return text.by_group(
        codes, lambda code, rows: phone_text(numbers[rows], styles[code])
    )


def emails(
    rng: np.random.Generator, canonical: pa.Array, weights: Mapping[str, float]
) -> pa.Array:
    """Re-spell canonical (lower-case, trimmed) emails: capitals, surrounding spaces."""
    styles = list(weights)
    codes = choose(rng, len(canonical), list(weights.values()))

    def build(code: int, rows: np.ndarray) -> pa.Array:
        values = canonical.take(pa.array(rows))
        style = styles[code]
        if style == UPPER:
            return pc.utf8_upper(values)
        if style == TITLE:
            return pc.utf8_title(values)
        if style == PADDED:
            return text.join("  ", values, " ")
        return values

    return text.by_group(codes, build)


def _grouped_thousands(units: np.ndarray) -> pa.Array:
    """1299 -> '1,299' (non-negative integers)."""
    size = len(units)
    remaining = units // 1000
    result = text.where(
        remaining > 0,
        text.fixed([text.digits(units % 1000, 3)], size),
        text.integers(units % 1000),
    )
    while (remaining > 0).any():
        group, higher = remaining % 1000, remaining // 1000
        head = text.where(
            higher > 0, text.fixed([text.digits(group, 3)], size), text.integers(group)
        )
        result = text.where(remaining > 0, text.join(head, ",", result), result)
        remaining = higher
    return result


def money_text(cents: np.ndarray, style: str) -> pa.Array:
    """One spelling of amounts given in cents (negative amounts get a leading '-')."""
    cents = np.asarray(cents, dtype=np.int64)
    size = len(cents)
    sign = text.where(cents < 0, "-", text.blank(size))
    magnitude = np.abs(cents)
    units, fraction = np.divmod(magnitude, 100)
    whole = text.integers(units)
    two_places = text.fixed([text.digits(fraction, 2)], size)
    if style == DECIMAL:
        return text.join(sign, whole, ".", two_places)
    if style == GROUPED:
        return text.join(" ", sign, _grouped_thousands(units), ".", two_places, " ")
    trimmed = text.where(
        fraction % 10 == 0,
        text.join(".", text.integers(fraction // 10)),
        text.join(".", two_places),
    )
    trimmed = text.where(fraction == 0, "", trimmed)
    if style == YUAN:
        return text.join(sign, "¥", whole, trimmed)
    if style == SHORT:
        return text.join(sign, whole, trimmed)
    raise ValueError(f"unknown money style {style!r}")


def money(
    rng: np.random.Generator, cents: np.ndarray, weights: Mapping[str, float]
) -> pa.Array:
    styles = list(weights)
    codes = choose(rng, len(cents), list(weights.values()))
    return text.by_group(
        codes, lambda code, rows: money_text(cents[rows], styles[code])
    )


def blank_out(rng: np.random.Generator, values: pa.Array, mask: np.ndarray) -> pa.Array:
    """Replace masked rows by the ways sources spell "nothing": '', spaces, NULL."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return values
    nothing = text.pick(BLANKS, rng.integers(0, len(BLANKS), len(values)))
    return text.where(mask, nothing, values)


def pad(rng: np.random.Generator, values: pa.Array, share: float) -> pa.Array:
    """Surround a share of values with stray whitespace."""
    mask = rng.random(len(values)) < share
    return text.where(mask, text.join(" ", values, "  "), values)


def replace_with(
    rng: np.random.Generator,
    values: pa.Array,
    mask: np.ndarray,
    choices: Sequence[str | None],
) -> pa.Array:
    """Replace masked rows with values drawn from ``choices``."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return values
    replacement = text.pick(choices, rng.integers(0, len(choices), len(values)))
    return text.where(mask, replacement, values)


def plan_bad_rows(
    rng: np.random.Generator,
    size: int,
    share: float,
    kinds: int,
    eligible: np.ndarray | None = None,
) -> np.ndarray:
    """Per row 0 (good) or 1..kinds (which defect).

    Tables of 100 rows or more get every kind at least once (at most one bad row per 50
    rows), so small demos exercise quarantine too.
    """
    eligible = np.ones(size, dtype=bool) if eligible is None else eligible
    bad = (rng.random(size) < share) & eligible
    minimum = min(kinds, size // 50) if size >= 100 else 0
    missing = minimum - int(bad.sum())
    if missing > 0:
        candidates = np.flatnonzero(eligible & ~bad)
        chosen = rng.choice(
            candidates, size=min(missing, len(candidates)), replace=False
        )
        bad[chosen] = True
    codes = np.zeros(size, dtype=np.int8)
    rows = np.flatnonzero(bad)
    codes[rows] = rng.integers(1, kinds + 1, len(rows))
    if len(rows) >= minimum > len(np.unique(codes[rows])):
        codes[rows[:minimum]] = np.arange(1, minimum + 1)
    return codes


def add_duplicates(rng: np.random.Generator, table: pa.Table, share: float) -> pa.Table:
    """Append exact copies of a share of rows (at-least-once delivery)."""
    rows = np.flatnonzero(rng.random(table.num_rows) < share)
    if len(rows) == 0:
        return table
    return pa.concat_tables([table, table.take(pa.array(rows))])
