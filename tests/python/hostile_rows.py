"""A seeded generator of hostile raw rows for every raw contract table, with what staging
must make of each row.

Every table gets:

- known-good rows (keys ``good-…``), whose free text is itself hostile but valid (emoji,
  mixed scripts, SQL metacharacters, 10 kB) and must reach the ``stg_`` model unchanged
  apart from trimming;
- one row per (column, hostile value): a good row with that one column broken, so the
  outcome is known exactly: staged untouched, staged with the field quarantined, or
  rejected with a given reason;
- all-null and all-blank rows, duplicate keys with different content, keys that collide
  once trimmed, identifiers that collide once normalised;
- chaos rows: a good key, every other column drawn from everything above (only the
  accounting is known: staged, or rejected with one of the table's reasons).

Deletion requests are fuzzed like the rest, with one difference: a request that is honoured
erases the whole person holding its identifier, in every source. So every request names
an identifier of its own (``@forget.example``, phones ``+86 166…``, ids ``forget-…``) that
no row of another table carries once normalised, which ``generate`` asserts, except one
deliberate request naming a dedicated CRM member, whose rows in three sources must be
erased (``erasure_request``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.syncs.forget import identifier_hash
from tests.python.cdp_testing import RAW_CONTRACT

Row = dict[str, Any]

# Characters clean_text trims (Unicode White_Space, zero-width space and the BOM).
TRIMMED = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" \
    "\u2008\u2009\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
TEN_KB = "长" * 2000 + "x" * 4000  # 10,000 bytes of UTF-8

# --- hostile values, by class ------------------------------------------------------------
BLANK = [None, "", " ", "\t \n", "\u3000", "\xa0 ", "\u2003", "\v", "\ufeff", "\u200b \u2028",
         "NULL", "null", "None", "N/A", "n/a", "na", "NaN", "undefined", "-", " - "]
# No digit and no '@' in any of these, so they cannot pass for a number, date or phone.
JUNK = [TEN_KB, "😀👍🏽🇨🇳", "Ωμέγα 中文 العربية עברית", "'; drop table x; --",
        'Robert"); DROP TABLE students;--', "\\'\\\"%_", "$$ $$", "ẞ straße", "\u200bzw",
        "<script>alert(x)</script>", "-- comment", "/* x */", "e\u0301", "\x1b[31mred"]
BAD_DATE = ["2023-02-30", "2023-02-29 10:00:00", "2023-13-01", "2023-00-10",
            "2023-04-31T08:00:00Z", "2023-01-01 25:00:00", "2023-01-01 10:61:00",
            "2023-01-01 24:00:01", "2023-01-32", "20230101", "1/2/2023",
            "10000-01-01", "2023-06-01 12:00:00 +25:00"]
FAR_DATE = ["0001-01-01", "0001-01-01 00:00:00", "0001-01-01T00:00:00+14:00", "1000-06-15",
            "1899-12-31 23:59:59", "9999-12-31", "9999-12-31 23:59:59",
            "9999-12-31T23:59:59-12:00", "2999-01-01 00:00:00+08:00", "2200-01-01"]
BAD_NUMBER = ["abc", "1.2.3", "1e5", "1E-2", "Infinity", "-Infinity", "--1", "+-1", "12abc",
              "0x1F", "1_000", "١٢٣", "１２３", ".5", "5.", "(5)", "+5", "1 2 3 . 4 5 6 -"]
NEGATIVE = ["-0.01", "-1", "-999999.99", "¥-5", "- 5", "-100 RMB"]
HUGE_NUMBER = ["9999999999999999", "1" + "0" * 30, "123456789012345678901234567890.99",
               "9" * 400, "-" + "9" * 40]
BAD_EMAIL = ["a@b", "a@@b.com", "a..b@x.com", "@x.com", "a@-x.com", "a@x.c", "ab@例子.com",
             "a@b.com;drop table x", "a@b.com' or '1'='1", "ａ@b.com", "a@b.com\u200bx"]
BAD_PHONE = ["12345", "+86 123", "000", "+", "+0086138", "1" * 20, "+861380013800",
             "12800128000", "+86 02112345678"]
BAD_INTEGER = ["1.5", "2.01", "1e3", "9999999999"]

CLASSES: dict[str, list[Any]] = {
    "blank": BLANK, "junk": JUNK, "bad_date": BAD_DATE, "far_date": FAR_DATE,
    "bad_number": BAD_NUMBER, "negative": NEGATIVE, "huge_number": HUGE_NUMBER,
    "bad_email": BAD_EMAIL, "bad_phone": BAD_PHONE, "bad_integer": BAD_INTEGER,
}

# --- good values ---------------------------------------------------------------------------
GOOD_TEXT = ["Zhang Wei", "张伟", "😀 Zoë Ωμέγα العربية", "O'Brien'; drop table x; --",
             'Robert"); DROP TABLE students;--', "back\\slash %_ $$ $1", "<b>bold</b>",
             TEN_KB, "ẞ straße", "line\nbreak inside", "  padded  ", "\u3000全角空格\u3000",
             "\ufeffBOM first", "tab\tinside"]
GOOD_KEYS = ["'; drop table x; --", "键-😀-Ωμέγα", "k" * 10_000, 'q"uote\\d', "%_*?"]
GOOD_TS_EARLY = ["2021-05-06 07:08:09", "2021/5/6 7:08", "2021-05-06T07:08:09Z",
                 "2021-05-06T07:08:09+08:00", "2021-05-06 07:08:09.123456", "2021-05-06",
                 " 2021-12-31 23:59:59 ", "2021-02-28T12:00:00-0530", "2020-02-29 00:00:00",
                 "2021-01-01T00:00:00.5+08"]
GOOD_TS_LATE = ["2023-05-06 07:08:09", "2023/5/6 7:08", "2023-05-06T07:08:09Z",
                "2024-02-29T23:59:59+08:00", "2023-12-31 23:59:59.999999"]
GOOD_DATE = ["1990-01-15", "1985/7/4", "2000-02-29", "1950-12-31 00:00:00", " 1999-09-09 ",
             "1900-01-01"]
GOOD_EMAIL = ["zhang.wei@example.com", " Mixed.Case@QQ.com ", "o'brien@example.ie",
              "user+tag@sub.domain.cn", "a_b-c@x-y.io", "sp ace@example.com"]
GOOD_PHONE = ["13800138000", "138 0013 8000", "+86 139-0013-9000", "0086 13700137000",
              "(+86)15000150000", "+1 415 555 2671", "+44 20 7946 0958", "8613600136000"]
GOOD_AMOUNT = ["12.50", "¥1,234.50", " 99 ", "RMB 10", "0", "999999999999999.99", "1.23456789",
               "￥ 8", "$5.00", "-0", "CNY 1 000"]
GOOD_OPTIONAL_AMOUNT = [None, "", "0", "5.5", "¥2", "N/A"]
GOOD_QUANTITY = ["1", "2", " 3 ", "4.0", "999999999"]
GOOD_INTEGER = [None, "1", "12", "3.00", ""]
GOOD_SCORE = [None, "1", "5", "3.0", " 4 "]
GOOD_GENDER = ["m", "F", "男", "女", "Male", "x", None, "😀"]
CONSENT_IDENTIFIERS = [("email", " A@B.com "), ("phone", "138 0013 8000"), ("member_id", "M1"),
                       ("openid", "o-😀"), ("unionid", "u-'x'"), ("device_id", "d-1"),
                       ("anonymous_id", "a-1"), ("member_card", "C-1")]
IDENTIFIER_TYPES = ("email", "phone", "member_id", "member_card", "openid", "unionid",
                    "device_id", "anonymous_id")
# Identifiers of deletion requests, typed messily: a namespace no other table uses
# ({n}: a number). Phones: +86 166… (mainland mobiles), +1 212 555…, +44 7700 900….
FORGET_IDENTIFIERS = [
    ("email", " Forget.User{n}@FORGET.example "),
    ("EMAIL", "\u3000forget+tag{n}@sub.forget.example\u2003"),
    (" Email ", "o'forget{n}@forget.example"), ("email", "for get{n}@Forget.Example"),
    ("email\t", "\ufeffa_b-{n}@x-y.forget.example\u200b"),
    ("phone", "166 0000 {n:04d}"), ("Phone", "+86 166-0001-{n:04d}"),
    (" PHONE ", "0086 1660002{n:04d}"), ("phone", "(+86)1660003{n:04d}"),
    ("phone", "86 1660004 {n:04d}"), ("phone\u3000", "1660005{n:04d}"),
    ("phone", "+1 212 555 {n:04d}"), ("phone", "+44 7700 900{n:03d}"),
    ("member_id", "  forget-member-{n}  "), ("MEMBER_ID", "\u3000forget-键-😀-{n}\u3000"),
    ("member_card", "forget-card-{n}\t"), ("Member_Card", "\xa0FORGET-CARD-{n}"),
    ("openid", "forget-o-😀-Ωμέγα-{n}"), ("OpenID", "forget-o'; drop table x; --{n}"),
    ("unionid", "forget-u-'x'-{n}"), ("device_id", 'forget-d-"{n}"'),
    ("anonymous_id", "\ufeffforget-a-{n}"), ("ANONYMOUS_ID ", "forget-a-\\%_{n}"),
]
TYPE_SPELLINGS = sorted({identifier_type for identifier_type, _ in FORGET_IDENTIFIERS})


# --- what staging makes of a value, per kind of column -------------------------------------
@dataclass(frozen=True)
class Outcome:
    """``staged`` (no quarantine row), ``field`` (staged; the column quarantined with
    ``reason``) or ``rejected`` (the row quarantined with ``reason``)."""

    kind: str
    reason: str | None = None


OK = Outcome("staged")


def rejected(reason: str) -> Outcome:
    return Outcome("rejected", reason)


def field_error(reason: str) -> Outcome:
    return Outcome("field", reason)


def clean(value: str | None) -> str | None:
    """clean_text: trimmed, and null when blank or a null spelling."""
    if value is None:
        return None
    trimmed = value.strip(TRIMMED)
    nulls = ("", "null", "none", "n/a", "na", "nan", "undefined", "-")
    return None if trimmed.lower() in nulls else trimmed


def parse_integer(value: str | None) -> int | None:
    text = clean(value)
    if text is None or not re.fullmatch(r"-?[0-9]{1,9}(\.0+)?", text):
        return None
    return int(decimal.Decimal(text))


def parse_amount(value: str | None) -> decimal.Decimal | None:
    text = clean(value)
    if text is None:
        return None
    stripped = re.sub(f"[{TRIMMED},¥￥$]|CNY|RMB|cny|rmb", "", text)
    if not re.fullmatch(r"-?[0-9]{1,15}(\.[0-9]+)?", stripped):
        return None
    return decimal.Decimal(stripped).quantize(decimal.Decimal("0.01"), decimal.ROUND_HALF_UP)


def parse_date(value: str | None) -> dt.date | None:
    text = clean(value)
    match = text and re.fullmatch(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})([ T].*)?",
                                  text.replace("/", "-"), re.DOTALL)
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.group(1, 2, 3)))
    except ValueError:
        return None


EMAIL = re.compile(r"[a-z0-9!#$%&*+/=?^_`{|}~.'-]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?"
                   r"(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}")


def normalize_email(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = re.sub(f"[{TRIMMED}]+", "", value).lower()
    return stripped if EMAIL.fullmatch(stripped) and ".." not in stripped else None


def normalize_phone(value: str | None, country: str = "86") -> str | None:
    if value is None:
        return None
    digits = re.sub(r"[^0-9+]", "", value)
    if digits.startswith("+"):
        candidate = digits[1:]
    elif digits.startswith("00"):
        candidate = digits[2:]
    elif digits.startswith(country) and len(digits) > 11:
        candidate = digits
    else:
        candidate = country + re.sub("^0", "", digits)
    if candidate.startswith("86"):
        return "+" + candidate if re.fullmatch(r"861[3-9][0-9]{9}", candidate) else None
    return "+" + candidate if re.fullmatch(r"[1-9][0-9]{7,14}", candidate) else None


def normalize_identifier(identifier_type: Any, value: Any) -> tuple[str, str] | None:
    """(type, normalised value) of an identifier given with its type, as staging keys it
    (macro normalize_identifier); None when the type is unknown or the value unusable."""
    kind = (clean(identifier_type) or "").lower()
    if kind not in IDENTIFIER_TYPES:
        return None
    normalize = {"email": normalize_email, "phone": normalize_phone}.get(kind, clean)
    normalised = normalize(value)
    return None if normalised is None else (kind, normalised)


def _timestamp(missing: Outcome, invalid: Outcome, out_of_range: Outcome):
    """Timestamps are judged by value class: the generator's bad dates and far dates are
    impossible and implausible on every engine; nothing else in CLASSES is a timestamp."""
    def judge(class_name: str, value: Any) -> Outcome:
        if clean(value) is None:
            return missing
        return out_of_range if class_name == "far_date" else invalid
    return judge


def _amount(missing: Outcome):
    def judge(class_name: str, value: Any) -> Outcome:
        if clean(value) is None:
            return missing
        amount = parse_amount(value)
        if amount is None:
            return rejected("invalid_amount")
        return rejected("negative_amount") if amount < 0 else OK
    return judge


def _birthday(class_name: str, value: Any) -> Outcome:
    if clean(value) is None:
        return OK
    parsed = parse_date(value)
    return OK if parsed and dt.date(1900, 1, 1) <= parsed <= dt.date.today() else (
        field_error("invalid_date"))


def _optional_integer(reason: str, low: int | None = None, high: int | None = None):
    def judge(class_name: str, value: Any) -> Outcome:
        if clean(value) is None:
            return OK
        number = parse_integer(value)
        if number is None or (low is not None and not low <= number <= (high or number)):
            return field_error(reason)
        return OK
    return judge


def _identifier(normalize: Callable[[Any], str | None], missing: Outcome, invalid: Outcome):
    def judge(class_name: str, value: Any) -> Outcome:
        if clean(value) is None:
            return missing
        return OK if normalize(value) is not None else invalid
    return judge


def _required(missing: Outcome):
    return lambda class_name, value: missing if clean(value) is None else OK


def _one_of(values: set[str], invalid: Outcome):
    return lambda class_name, value: (
        OK if (clean(value) or "").lower() in values else invalid
    )


Judge = Callable[[str, Any], Outcome]
KINDS: dict[str, Judge] = {
    "key": _required(rejected("missing_key")),
    "line_number": lambda c, v: OK if parse_integer(v) is not None else rejected("missing_key"),
    "text": lambda c, v: OK,
    "event_name": _required(rejected("missing_event_name")),
    "timestamp": _timestamp(rejected("missing_timestamp"), rejected("invalid_timestamp"),
                            rejected("timestamp_out_of_range")),
    "optional_timestamp": _timestamp(OK, field_error("invalid_timestamp"),
                                     field_error("invalid_timestamp")),
    "date": _birthday,
    "email": _identifier(normalize_email, OK, field_error("invalid_email")),
    "phone": _identifier(normalize_phone, OK, field_error("invalid_phone")),
    "amount": _amount(rejected("missing_amount")),
    "optional_amount": _amount(OK),
    "unit_price": _amount(rejected("invalid_amount")),
    "quantity": lambda c, v: OK if (parse_integer(v) or 0) > 0 else rejected("invalid_quantity"),
    "optional_integer": _optional_integer("invalid_integer"),
    "score": _optional_integer("invalid_score", 1, 5),
    "identifier_type": _one_of({"email", "phone", "member_id", "member_card", "openid",
                                "unionid", "device_id", "anonymous_id"},
                               rejected("invalid_identifier_type")),
    "email_identifier": _identifier(normalize_email, rejected("missing_identifier"),
                                    rejected("invalid_identifier")),
    "phone_identifier": _identifier(normalize_phone, rejected("missing_identifier"),
                                    rejected("invalid_identifier")),
    "text_identifier": _required(rejected("missing_identifier")),
    "channel": _required(rejected("missing_channel")),
    "status": _one_of({"granted", "revoked"}, rejected("invalid_status")),
}


@dataclass(frozen=True)
class Table:
    name: str
    staged_model: str
    key: Sequence[str]
    kinds: Mapping[str, str]                 # raw column -> kind (unlisted: text)
    probe: tuple[str, str]                   # raw free-text column -> staged column
    good_row: Callable[[random.Random, str], Row]
    staged_key: str                          # key column of the staged model
    row_reasons: frozenset[str] = field(default_factory=frozenset)
    # What the staged probe column must hold for a raw row (default: its cleaned free text)
    expected_probe: Callable[[Row], Any] | None = None
    # Several staged rows per key (a deletion request per identifier): the probe is read
    # back as the frozenset of their values
    several_per_key: bool = False

    def probe_of(self, row: Row) -> Any:
        if self.expected_probe is not None:
            return self.expected_probe(row)
        return clean(row[self.probe[0]])


def _pick(rng: random.Random, values: Sequence[Any]) -> Any:
    return values[rng.randrange(len(values))]


def _crm(rng: random.Random, key: str) -> Row:
    return {"member_id": key, "member_card_no": f"C-{rng.randrange(10**6)}",
            "name": _pick(rng, GOOD_TEXT), "email": _pick(rng, GOOD_EMAIL),
            "phone": _pick(rng, GOOD_PHONE), "gender": _pick(rng, GOOD_GENDER),
            "birthday": _pick(rng, GOOD_DATE), "city": _pick(rng, GOOD_TEXT),
            "registered_at": _pick(rng, GOOD_TS_EARLY), "updated_at": _pick(rng, GOOD_TS_LATE)}


def _order(rng: random.Random, key: str) -> Row:
    return {"order_id": key, "member_id": _pick(rng, [None, "M1", *GOOD_KEYS]),
            "buyer_email": _pick(rng, GOOD_EMAIL), "buyer_phone": _pick(rng, GOOD_PHONE),
            "platform": _pick(rng, ["tmall", " JD ", "own_site", "😀"]),
            "order_ts": _pick(rng, GOOD_TS_EARLY + GOOD_TS_LATE),
            "status": _pick(rng, ["paid", "Shipped", "'; --"]),
            "total_amount": _pick(rng, GOOD_AMOUNT),
            "discount_amount": _pick(rng, GOOD_OPTIONAL_AMOUNT),
            "currency": _pick(rng, [None, "cny", " USD "]),
            "shipping_city": _pick(rng, GOOD_TEXT)}


def _order_item(rng: random.Random, key: str) -> Row:
    return {"order_id": key, "line_no": str(rng.randrange(1, 9)), "sku": _pick(rng, GOOD_KEYS),
            "product_name": _pick(rng, GOOD_TEXT), "category": _pick(rng, GOOD_TEXT),
            "quantity": _pick(rng, GOOD_QUANTITY), "unit_price": _pick(rng, GOOD_AMOUNT)}


def _web(rng: random.Random, key: str) -> Row:
    anonymous, user = _pick(rng, [("a-1", None), (None, "M1"), ("a-'x'", "k-😀")])
    return {"event_id": key, "anonymous_id": anonymous, "user_id": user,
            "event_name": _pick(rng, ["page_view", " Add_To_Cart ", "😀"]),
            "page_url": _pick(rng, GOOD_TEXT), "utm_source": _pick(rng, [None, *GOOD_TEXT]),
            "event_ts": _pick(rng, GOOD_TS_EARLY + GOOD_TS_LATE),
            "properties": _pick(rng, ['{"a": "\'; drop"}', TEN_KB, None])}


def _app(rng: random.Random, key: str) -> Row:
    device, user = _pick(rng, [("d-1", None), (None, "M1"), ("d-😀", "k'x")])
    return {"event_id": key, "device_id": device, "user_id": user,
            "platform": _pick(rng, ["ios", "Android", "'"]), "app_version": _pick(rng, GOOD_TEXT),
            "event_name": _pick(rng, ["app_open", "purchase", "Ωμέγα"]),
            "event_ts": _pick(rng, GOOD_TS_EARLY + GOOD_TS_LATE),
            "properties": _pick(rng, ["{}", None, TEN_KB])}


def _pos(rng: random.Random, key: str) -> Row:
    return {"txn_id": key, "store_id": _pick(rng, GOOD_TEXT),
            "member_card_no": _pick(rng, [None, "C-1", *GOOD_KEYS]),
            "phone": _pick(rng, [None, *GOOD_PHONE]),
            "txn_ts": _pick(rng, GOOD_TS_EARLY + GOOD_TS_LATE),
            "amount": _pick(rng, GOOD_AMOUNT), "discount_amount": _pick(rng, GOOD_OPTIONAL_AMOUNT),
            "items_count": _pick(rng, GOOD_INTEGER)}


def _wechat(rng: random.Random, key: str) -> Row:
    return {"openid": key, "unionid": _pick(rng, [None, "u-1", *GOOD_KEYS]),
            "phone": _pick(rng, [None, *GOOD_PHONE]), "nickname": _pick(rng, GOOD_TEXT),
            "city": _pick(rng, GOOD_TEXT), "subscribed_at": _pick(rng, GOOD_TS_EARLY),
            "unsubscribed_at": _pick(rng, [None, *GOOD_TS_LATE])}


def _ticket(rng: random.Random, key: str) -> Row:
    return {"ticket_id": key, "member_id": _pick(rng, [None, "M1", *GOOD_KEYS]),
            "phone": _pick(rng, [None, *GOOD_PHONE]), "email": _pick(rng, [None, *GOOD_EMAIL]),
            "channel": _pick(rng, ["hotline", "wechat", "😀"]),
            "category": _pick(rng, ["complaint", " Inquiry ", "'; --"]),
            "created_at": _pick(rng, GOOD_TS_EARLY),
            "resolved_at": _pick(rng, [None, *GOOD_TS_LATE]),
            "satisfaction": _pick(rng, GOOD_SCORE)}


def _consent(rng: random.Random, key: str) -> Row:
    identifier_type, identifier_value = _pick(rng, CONSENT_IDENTIFIERS)
    return {"consent_event_id": key, "identifier_type": identifier_type,
            "identifier_value": identifier_value,
            "channel": _pick(rng, ["email", "SMS", "wechat", "push", "ads"]),
            "purpose": _pick(rng, [None, "marketing", "Analytics", ""]),
            "status": _pick(rng, ["granted", "revoked", " GRANTED "]),
            "event_ts": _pick(rng, GOOD_TS_EARLY + GOOD_TS_LATE),
            "source": _pick(rng, GOOD_TEXT)}


def _deletion_request(rng: random.Random, key: str) -> Row:
    identifier_type, template = _pick(rng, FORGET_IDENTIFIERS)
    return {"request_id": key, "identifier_type": identifier_type,
            "identifier_value": template.format(n=rng.randrange(10_000)),
            "requested_at": _pick(rng, GOOD_TS_EARLY + GOOD_TS_LATE)}


def request_hash(row: Row) -> frozenset[str] | None:
    """The identifier_hash a staged deletion request must hold (a set: see several_per_key)."""
    identifier = normalize_identifier(row["identifier_type"], row["identifier_value"])
    return None if identifier is None else frozenset({identifier_hash(*identifier)})


def request_verdict(row: Row) -> Outcome:
    """What staging makes of a deletion request row, requested_at aside."""
    if clean(row["request_id"]) is None:
        return rejected("missing_key")
    if (clean(row["identifier_type"]) or "").lower() not in IDENTIFIER_TYPES:
        return rejected("invalid_identifier_type")
    if clean(row["identifier_value"]) is None:
        return rejected("missing_identifier")
    if request_hash(row) is None:
        return rejected("invalid_identifier")
    return OK


EVENT_REASONS = {"missing_key", "duplicate_key", "missing_identifier", "missing_event_name",
                 "missing_timestamp", "invalid_timestamp", "timestamp_out_of_range"}
SALE_REASONS = {"missing_key", "duplicate_key", "missing_timestamp", "invalid_timestamp",
                "timestamp_out_of_range", "missing_amount", "invalid_amount", "negative_amount"}
TABLES: tuple[Table, ...] = (
    Table("crm_members", "stg_crm__members", ["member_id"],
          {"member_id": "key", "email": "email", "phone": "phone", "birthday": "date",
           "registered_at": "optional_timestamp", "updated_at": "optional_timestamp"},
          ("name", "full_name"), _crm, "member_id",
          frozenset({"missing_key", "duplicate_key"})),
    Table("ecom_orders", "stg_ecom__orders", ["order_id"],
          {"order_id": "key", "buyer_email": "email", "buyer_phone": "phone",
           "order_ts": "timestamp", "total_amount": "amount",
           "discount_amount": "optional_amount"},
          ("shipping_city", "shipping_city"), _order, "order_id", frozenset(SALE_REASONS)),
    Table("ecom_order_items", "stg_ecom__order_items", ["order_id", "line_no"],
          {"order_id": "key", "line_no": "line_number", "quantity": "quantity",
           "unit_price": "unit_price"},
          ("product_name", "product_name"), _order_item, "order_item_id",
          frozenset({"missing_key", "duplicate_key", "invalid_quantity", "invalid_amount",
                     "negative_amount"})),
    Table("web_events", "stg_web__events", ["event_id"],
          {"event_id": "key", "event_name": "event_name", "event_ts": "timestamp"},
          ("page_url", "page_url"), _web, "event_id", frozenset(EVENT_REASONS)),
    Table("app_events", "stg_app__events", ["event_id"],
          {"event_id": "key", "event_name": "event_name", "event_ts": "timestamp"},
          ("app_version", "app_version"), _app, "event_id", frozenset(EVENT_REASONS)),
    Table("pos_transactions", "stg_pos__transactions", ["txn_id"],
          {"txn_id": "key", "phone": "phone", "txn_ts": "timestamp", "amount": "amount",
           "discount_amount": "optional_amount", "items_count": "optional_integer"},
          ("store_id", "store_id"), _pos, "transaction_id", frozenset(SALE_REASONS)),
    Table("wechat_followers", "stg_wechat__followers", ["openid"],
          {"openid": "key", "phone": "phone", "subscribed_at": "optional_timestamp",
           "unsubscribed_at": "optional_timestamp"},
          ("nickname", "nickname"), _wechat, "openid",
          frozenset({"missing_key", "duplicate_key"})),
    Table("service_tickets", "stg_service__tickets", ["ticket_id"],
          {"ticket_id": "key", "phone": "phone", "email": "email", "created_at": "timestamp",
           "resolved_at": "optional_timestamp", "satisfaction": "score"},
          ("member_id", "member_id"), _ticket, "ticket_id",
          frozenset({"missing_key", "duplicate_key", "missing_timestamp", "invalid_timestamp",
                     "timestamp_out_of_range"})),
    Table("consent_events", "stg_consent__events", ["consent_event_id"],
          {"consent_event_id": "key", "identifier_type": "identifier_type",
           "identifier_value": "email_identifier", "channel": "channel", "status": "status",
           "event_ts": "timestamp"},
          ("source", "consent_source"), _consent, "consent_event_id",
          frozenset({"missing_key", "duplicate_key", "invalid_identifier_type",
                     "missing_identifier", "invalid_identifier", "missing_channel",
                     "invalid_status", "missing_timestamp", "invalid_timestamp",
                     "timestamp_out_of_range"})),
    # Last: its identifiers are drawn once every other table's rows are known.
    Table("deletion_requests", "stg_privacy__deletion_requests", ["request_id"],
          {"request_id": "key", "identifier_type": "identifier_type",
           # a request is honoured whatever its time says: an unreadable or implausible
           # requested_at (year 1, 9999) is nulled and quarantined, the request kept
           "identifier_value": "text_identifier", "requested_at": "optional_timestamp"},
          ("identifier_value", "identifier_hash"), _deletion_request, "request_id",
          frozenset({"missing_key", "duplicate_key", "invalid_identifier_type",
                     "missing_identifier", "invalid_identifier"}),
          expected_probe=request_hash, several_per_key=True),
)
HOSTILE_TABLES = tuple(table.name for table in TABLES)
assert set(HOSTILE_TABLES) == set(RAW_CONTRACT)
assert TABLES[-1].name == "deletion_requests"

# The identifier columns of each table, as its base model declares them to the erasure
# (meta.cdp_privacy identifier_columns; consent_events: its identifier_type/value pair).
IDENTIFIER_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "crm_members": [("member_id", "member_id"), ("member_card", "member_card_no"),
                    ("email", "email"), ("phone", "phone")],
    "ecom_orders": [("member_id", "member_id"), ("email", "buyer_email"),
                    ("phone", "buyer_phone")],
    "web_events": [("anonymous_id", "anonymous_id"), ("member_id", "user_id")],
    "app_events": [("device_id", "device_id"), ("member_id", "user_id")],
    "pos_transactions": [("member_card", "member_card_no"), ("phone", "phone")],
    "wechat_followers": [("openid", "openid"), ("unionid", "unionid"), ("phone", "phone")],
    "service_tickets": [("member_id", "member_id"), ("phone", "phone"), ("email", "email")],
}


def identifiers_in(rows: Mapping[str, Sequence[Row]]) -> set[tuple[str, str]]:
    """Every (type, normalised value) that a raw row outside deletion_requests carries:
    what a deletion request naming it would erase."""
    carried = [(kind, row.get(column)) for table, columns in IDENTIFIER_COLUMNS.items()
               for row in rows[table] for kind, column in columns]
    carried += [(row.get("identifier_type"), row.get("identifier_value"))
                for row in rows["consent_events"]]
    return {identifier for kind, value in carried
            if (identifier := normalize_identifier(kind, value)) is not None}


@dataclass(frozen=True)
class Expectation:
    """One raw row (or, for duplicates, one key) and what staging must make of it."""

    table: str
    key: str | None            # staged key (source_key in the quarantine)
    outcome: Outcome
    column: str | None = None  # the broken column (field outcomes)
    value: Any = None
    copies: int = 1            # rows sharing the key (duplicate groups)
    probe: Any = None          # expected staged probe (see Table.probe_of; None: not checked)


@dataclass(frozen=True)
class Erasure:
    """The one deletion request that names somebody: a dedicated CRM member, whose rows in
    crm_members, service_tickets (same phone) and web_events (same member id) it erases."""

    request_id: str
    member_id: str                           # erased: the CRM row keeps no key
    erased_keys: dict[str, str]              # table -> key of its erased row (key kept)
    identifiers: frozenset[tuple[str, str]]  # the person's (type, normalised value)


@dataclass
class HostileData:
    rows: dict[str, list[Row]]
    expectations: list[Expectation]
    chaos_keys: dict[str, list[str]]
    collisions: dict[str, list[str]]  # normalised identifier -> crm member_ids carrying it
    erasure: Erasure
    # (table, chaos key) -> its row outcome and staged probe, where the generator knows them
    chaos_verdicts: dict[tuple[str, str | None], tuple[Outcome, Any]]

    def count(self, table: str) -> int:
        return len(self.rows[table])


def _staged_key(table: Table, row: Row) -> str | None:
    key = clean(row[table.key[0]])
    if table.name == "ecom_order_items":
        line = parse_integer(row["line_no"])
        return None if key is None or line is None else f"{key}-{line}"
    return key


def _mutated(table: Table, good: Row, column: str, value: Any) -> Row:
    row = {**good, column: value}
    if table.name == "consent_events" and column == "identifier_value":
        row["identifier_type"] = "email"
    pair = {"web_events": ("anonymous_id", "user_id"), "app_events": ("device_id", "user_id")}
    if column in pair.get(table.name, ()):
        other, = set(pair[table.name]) - {column}
        row[other] = "the-other-identifier"  # one identifier of the two is enough
    if table.name == "service_tickets" and column == "resolved_at":
        row["created_at"] = "2020-01-01 00:00:00"
    return row


def _variants(table: Table, column: str, value: Any,
              number: int) -> list[list[tuple[dict[str, Any], str]]]:
    """The rows a hostile value in `column` makes, as groups of alternatives (columns to
    change, kind of `column`): one row per group, of its first alternative that names
    nobody (see generate). A deletion request's value is tried as an email, a phone and
    one of the other types (each value another). Where it is usable, somebody in another
    table carries it (every table gets every hostile value): it is then moved into the
    requests' namespace, hostile still (`<value>.forget.example`, `forget-<value>`)."""
    if table.name == "deletion_requests" and column == "identifier_value":
        other = IDENTIFIER_TYPES[2 + number % (len(IDENTIFIER_TYPES) - 2)].upper()
        return [
            [({"identifier_type": "email"}, "email_identifier"),
             ({"identifier_type": "email", "identifier_value": f"{value}.forget.example"},
              "email_identifier")],
            [({"identifier_type": " Phone "}, "phone_identifier")],
            [({"identifier_type": other}, "text_identifier"),
             ({"identifier_type": other, "identifier_value": f"forget-{value}"},
              "text_identifier")],
        ]
    return [[({}, table.kinds.get(column, "text"))]]


def _respelled(row: Row) -> str:
    """A deletion request's identifier typed differently, equal once normalised."""
    value = f" {row['identifier_value']}\u3000"
    return value.upper() if (clean(row["identifier_type"]) or "").lower() == "email" else value


def _erasure(rng: random.Random, rows: dict[str, list[Row]],
             expectations: list[Expectation]) -> tuple[Erasure, Row]:
    """A CRM member, a ticket with their phone and a web event with their member id, all
    erased by one request naming the member's email (spelt differently); the request."""
    by_name = {table.name: table for table in TABLES}
    erasure = Erasure(
        "erase-request-1", "erase-crm-1",
        {"service_tickets": "erase-ticket-1", "web_events": "erase-web-1"},
        frozenset({("email", "erase.me@erasure.example"), ("phone", "+8613990000001"),
                   ("member_id", "erase-crm-1"), ("member_card", "erase-card-1"),
                   ("anonymous_id", "erase-anon-1")}),
    )
    assert not identifiers_in(rows) & erasure.identifiers, "the erased person must be new"
    rows["crm_members"].append({
        **by_name["crm_members"].good_row(rng, erasure.member_id),
        "member_card_no": " erase-card-1 ", "email": " Erase.Me@Erasure.Example ",
        "phone": "139-9000-0001"})
    rows["service_tickets"].append({
        **by_name["service_tickets"].good_row(rng, "erase-ticket-1"),
        "member_id": None, "email": None, "phone": "+86 139 9000 0001"})
    rows["web_events"].append({
        **by_name["web_events"].good_row(rng, "erase-web-1"),
        "anonymous_id": "erase-anon-1", "user_id": "\u3000erase-crm-1 "})
    # Erased rows keep their record key where the base model keeps it (not CRM's).
    expectations.append(Expectation("crm_members", None, rejected("erasure_request")))
    for table, key in erasure.erased_keys.items():
        expectations.append(Expectation(table, key, rejected("erasure_request")))
    request = {"request_id": f" {erasure.request_id} ", "identifier_type": "EMAIL ",
               "identifier_value": "\u3000ERASE.ME@erasure.example",
               "requested_at": "2024-03-01T09:00:00+08:00"}
    return erasure, request


def generate(seed: int, good_rows: int = 20, chaos_rows: int = 40) -> HostileData:
    """Rows for every raw table and the expected outcome of each; the same for a seed."""
    rng = random.Random(seed)
    rows: dict[str, list[Row]] = {table.name: [] for table in TABLES}
    expectations: list[Expectation] = []
    chaos_keys: dict[str, list[str]] = {table.name: [] for table in TABLES}
    chaos_verdicts: dict[tuple[str, str | None], tuple[Outcome, Any]] = {}
    every_value = [value for values in CLASSES.values() for value in values]
    # identifiers of the other tables' rows: no deletion request may name one
    taken: set[tuple[str, str]] = set()

    def names_somebody(table: Table, row: Row) -> bool:
        return table.name == "deletion_requests" and normalize_identifier(
            row["identifier_type"], row["identifier_value"]) in taken

    erasure: Erasure | None = None
    erasure_request: Row = {}
    for table in TABLES:
        if table.name == "deletion_requests":
            erasure, erasure_request = _erasure(rng, rows, expectations)
            taken |= identifiers_in(rows)
        add = rows[table.name].append
        prefix = table.name.split("_")[0][:4]
        check_probe = table.expected_probe is not None

        def keyed(key: str, table: Table = table) -> Row:
            row = table.good_row(rng, key)
            if table.name == "ecom_order_items":
                row["line_no"] = "1"
            return row

        # known-good rows, hostile keys among them
        keys = [f"good-{prefix}-{n}" for n in range(good_rows)]
        keys += [f"good-{key}" for key in GOOD_KEYS]
        for key in keys:
            row = keyed(key)
            add(row)
            expectations.append(Expectation(table.name, _staged_key(table, row), OK,
                                            probe=table.probe_of(row)))

        # one broken column per row
        number = 0
        for column in RAW_CONTRACT[table.name]:
            for class_name, values in CLASSES.items():
                for value in values:
                    for alternatives in _variants(table, column, value, number):
                        for changes, kind in alternatives:
                            number += 1
                            good = keyed(f"bad-{prefix}-{number}")
                            row = {**_mutated(table, good, column, value), **changes}
                            if not names_somebody(table, row):
                                break
                        else:
                            continue  # every alternative names somebody: no row
                        add(row)
                        outcome = KINDS[kind](class_name, row[column])
                        expectations.append(Expectation(
                            table.name, _staged_key(table, row), outcome,
                            column=column, value=row[column],
                            probe=table.probe_of(row)
                            if check_probe and outcome.kind != "rejected" else None,
                        ))

        # rows broken in a way no single column shows
        specials: list[tuple[dict[str, Any], Outcome]] = []
        if table.name in ("web_events", "app_events"):
            other = "anonymous_id" if table.name == "web_events" else "device_id"
            for blank in BLANK[:6]:
                specials.append(({other: blank, "user_id": _pick(rng, BLANK)},
                                 rejected("missing_identifier")))
        if table.name == "service_tickets":
            specials.append(({"created_at": "2023-06-01 10:00:00",
                              "resolved_at": "2023-05-31 10:00:00"},
                             field_error("invalid_timestamp")))
        if table.name == "consent_events":
            for identifier_type in ("email", "phone"):
                for value in ["not-an-address", "12345", "😀"]:
                    specials.append(({"identifier_type": identifier_type,
                                      "identifier_value": value},
                                     rejected("invalid_identifier")))
        if table.name == "deletion_requests":
            # a good identifier under the wrong type, a type with nothing usable
            for identifier_type, value, reason in [
                ("email", "forget-member-1", "invalid_identifier"),
                ("EMAIL", "forget@forget", "invalid_identifier"),
                ("email", "forget.user1@FORGET.example;", "invalid_identifier"),
                ("phone", "forget-user@forget.example", "invalid_identifier"),
                (" Phone ", "166 0000", "invalid_identifier"),
                ("phone", "+86 266 0000 0000", "invalid_identifier"),
                ("phone", "\u3000N/A\u3000", "missing_identifier"),
                ("member_id", " - ", "missing_identifier"),
                ("customer_id", "forget-member-1", "invalid_identifier_type"),
                ("e-mail", "forget.user1@forget.example", "invalid_identifier_type"),
            ]:
                specials.append(({"identifier_type": identifier_type,
                                  "identifier_value": value}, rejected(reason)))
        for changes, outcome in specials:
            number += 1
            row = {**keyed(f"bad-{prefix}-{number}"), **changes}
            assert table.name != "deletion_requests" or request_verdict(row) == outcome, row
            add(row)
            column = "resolved_at" if outcome.kind == "field" else None
            expectations.append(Expectation(table.name, _staged_key(table, row), outcome,
                                            column=column))

        if table.name == "deletion_requests":
            # every spelling of every type once
            for n, (identifier_type, template) in enumerate(FORGET_IDENTIFIERS):
                row = {**keyed(f"good-{prefix}-spelling-{n}"),
                       "identifier_type": identifier_type,
                       "identifier_value": template.format(n=n)}
                add(row)
                expectations.append(Expectation(table.name, _staged_key(table, row), OK,
                                                probe=table.probe_of(row)))
            # one request naming several identifiers, or one value under two types: all kept
            for key, identifiers in {
                "good-dele-several": [("email", " Several@Forget.Example"),
                                      ("PHONE", "+86 166 9999 0001"),
                                      ("member_id", "forget-several")],
                "good-dele-two-types": [("member_id", "forget-two-types"),
                                        ("OpenID", "\u3000forget-two-types ")],
            }.items():
                probe: frozenset[str] = frozenset()
                for identifier_type, value in identifiers:
                    row = {**keyed(key), "identifier_type": identifier_type,
                           "identifier_value": value}
                    add(row)
                    probe |= table.probe_of(row)
                expectations.append(Expectation(table.name, key, OK, probe=probe))
            # one identifier in two requests: both kept
            for key in ("good-dele-again-1", "good-dele-again-2"):
                row = {**keyed(key), "identifier_type": "email",
                       "identifier_value": " again@forget.example"}
                add(row)
                expectations.append(Expectation(table.name, key, OK, probe=table.probe_of(row)))
            # of one request and identifier, the copy with a readable time is kept (its
            # unreadable twin is only a duplicate: no field quarantine); exact copies
            row = keyed("dup-dele-unreadable")
            add({**row, "requested_at": "2023-02-30 10:00:00"})
            add({**row, "identifier_value": _respelled(row), "requested_at": "2023-01-01"})
            expectations.append(Expectation(table.name, "dup-dele-unreadable", OK, copies=2,
                                            probe=table.probe_of(row)))
            row = keyed("dup-dele-same")
            add(row)
            add(dict(row))
            expectations.append(Expectation(table.name, "dup-dele-same", OK, copies=2,
                                            probe=table.probe_of(row)))

        # nothing at all
        for blank in (None, "", " ", "NULL"):
            row = {column: blank for column in RAW_CONTRACT[table.name]}
            add(row)
            add(dict(row))  # exact copies too
            expectations.append(Expectation(table.name, None, rejected("missing_key"),
                                            copies=2))

        # duplicate keys with different content, and keys equal once trimmed (a deletion
        # request: the same identifier spelt differently, another time)
        groups = [
            [f"dup-{prefix}-1"] * 3,
            [" dup-2", "dup-2 ", "\u3000dup-2", "\ufeffdup-2\u200b", "dup-2\u2003"],
            ["dup-😀-'x'"] * 2,
        ]
        for keys_of_group in groups:
            first: Row | None = None
            for key in keys_of_group:
                row = keyed(key)
                if table.name == "ecom_order_items":
                    row["line_no"] = _pick(rng, ["1", " 1", "1.0", "01", "1.00"])
                if table.name == "deletion_requests" and first is not None:
                    row.update(identifier_type=first["identifier_type"],
                               identifier_value=_respelled(first))
                first = first or row
                add(row)
            expectations.append(Expectation(
                table.name, _staged_key(table, rows[table.name][-1]), OK,
                copies=len(keys_of_group), probe=table.probe_of(row) if check_probe else None))

        # chaos: a good key, anything else (a deletion request: a type mostly valid, and
        # never an identifier somebody else has)
        for n in range(chaos_rows):
            key = f"chaos-{prefix}-{n}"
            while True:
                row = {column: _pick(rng, every_value + GOOD_TEXT)
                       for column in RAW_CONTRACT[table.name]}
                if table.name == "deletion_requests":
                    row["identifier_type"] = _pick(
                        rng, TYPE_SPELLINGS if rng.random() < 0.7 else every_value)
                    row["identifier_value"] = _pick(rng, every_value + GOOD_TEXT + [
                        template.format(n=n) for _, template in FORGET_IDENTIFIERS])
                    row["requested_at"] = _pick(rng, every_value + GOOD_TS_EARLY)
                row.update({column: key if i == 0 else "1"
                            for i, column in enumerate(table.key)})
                if not names_somebody(table, row):
                    break
            add(row)
            chaos_keys[table.name].append(_staged_key(table, row))
            if table.name == "deletion_requests":
                chaos_verdicts[(table.name, key)] = (request_verdict(row), table.probe_of(row))

        if table.name == "crm_members":
            # identifiers equal once normalised, on different members
            spellings = {
                "collide-1": {"email": " A@B.com"}, "collide-2": {"email": "a@b.com "},
                "collide-3": {"email": "\u3000A@b.COM\u2003"},
                "collide-4": {"phone": "138 0013 8000"},
                "collide-5": {"phone": "+8613800138000"},
                "collide-6": {"phone": "0086-138-0013-8000"},
                "collide-7": {"phone": "(86) 138 0013 8000"},
            }
            for member_id, changes in spellings.items():
                add({**keyed(member_id), **changes})
                expectations.append(Expectation("crm_members", member_id, OK))

    # the deliberate request, and proof that it is the only one naming anybody
    assert erasure is not None
    rows["deletion_requests"].append(erasure_request)
    expectations.append(Expectation("deletion_requests", erasure.request_id, OK,
                                    probe=request_hash(erasure_request)))
    others = identifiers_in(rows)
    for row in rows["deletion_requests"]:
        named = normalize_identifier(row["identifier_type"], row["identifier_value"])
        if clean(row["request_id"]) == erasure.request_id:
            assert named in erasure.identifiers and named in others, row
        else:
            assert named not in others, f"deletion request {row} names {named}: erases it"

    collisions = {
        "a@b.com": ["collide-1", "collide-2", "collide-3"],
        "+8613800138000": ["collide-4", "collide-5", "collide-6", "collide-7"],
    }
    for table_rows in rows.values():
        rng.shuffle(table_rows)
    return HostileData(rows, expectations, chaos_keys, collisions, erasure, chaos_verdicts)
