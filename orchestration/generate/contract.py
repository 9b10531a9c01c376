"""The raw contract: the tables users' EL tools land in schema ``raw``, and the ground truth
the generator also writes (schema ``truth``, for tests only).

Every raw column is text, like an EL landing zone, plus ``_loaded_at`` (when the row was
loaded, a UTC timestamp). The truth table lists, for every generated person, each identifier
that belongs to them in normalised form.
"""

from __future__ import annotations

import pyarrow as pa

RAW_SCHEMA = "raw"
TRUTH_SCHEMA = "truth"
LOADED_AT = "_loaded_at"
LOADED_AT_TYPE = pa.timestamp("us", tz="UTC")

RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_members": (
        "member_id",
        "member_card_no",
        "name",
        "email",
        "phone",
        "gender",
        "birthday",
        "city",
        "registered_at",
        "updated_at",
    ),
    "ecom_orders": (
        "order_id",
        "member_id",
        "buyer_email",
        "buyer_phone",
        "platform",
        "order_ts",
        "status",
        "total_amount",
        "discount_amount",
        "currency",
        "shipping_city",
    ),
    "ecom_order_items": (
        "order_id",
        "line_no",
        "sku",
        "product_name",
        "category",
        "quantity",
        "unit_price",
    ),
    "web_events": (
        "event_id",
        "anonymous_id",
        "user_id",
        "event_name",
        "page_url",
        "utm_source",
        "event_ts",
        "properties",
    ),
    "app_events": (
        "event_id",
        "device_id",
        "user_id",
        "platform",
        "app_version",
        "event_name",
        "event_ts",
        "properties",
    ),
    "pos_transactions": (
        "txn_id",
        "store_id",
        "member_card_no",
        "phone",
        "txn_ts",
        "amount",
        "discount_amount",
        "items_count",
    ),
    "wechat_followers": (
        "openid",
        "unionid",
        "phone",
        "nickname",
        "city",
        "subscribed_at",
        "unsubscribed_at",
    ),
    "service_tickets": (
        "ticket_id",
        "member_id",
        "phone",
        "email",
        "channel",
        "category",
        "created_at",
        "resolved_at",
        "satisfaction",
    ),
    "consent_events": (
        "consent_event_id",
        "identifier_type",
        "identifier_value",
        "channel",
        "purpose",
        "status",
        "event_ts",
        "source",
    ),
    "deletion_requests": (
        "request_id",
        "identifier_type",
        "identifier_value",
        "requested_at",
    ),
}

TRUTH_COLUMNS: dict[str, tuple[str, ...]] = {
    "person_identifiers": ("person_id", "identifier_type", "identifier_value"),
}

# Identifier types of truth.person_identifiers, with the code used internally.
IDENTIFIER_TYPES: tuple[str, ...] = (
    "member_id",
    "member_card",
    "email",
    "phone",
    "anonymous_id",
    "device_id",
    "openid",
    "unionid",
)

# Primary-key column of each raw table (for collision checks between batches).
RAW_KEYS: dict[str, tuple[str, ...]] = {
    "crm_members": ("member_id", "updated_at"),
    "ecom_orders": ("order_id",),
    "ecom_order_items": ("order_id", "line_no"),
    "web_events": ("event_id",),
    "app_events": ("event_id",),
    "pos_transactions": ("txn_id",),
    "wechat_followers": ("openid",),
    "service_tickets": ("ticket_id",),
    "consent_events": ("consent_event_id",),
    "deletion_requests": ("request_id",),
}


def raw_schema(table: str) -> pa.Schema:
    """Arrow schema of a raw table: text columns, then ``_loaded_at``."""
    fields = [pa.field(column, pa.string()) for column in RAW_COLUMNS[table]]
    return pa.schema([*fields, pa.field(LOADED_AT, LOADED_AT_TYPE)])


def truth_schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(column, pa.string()) for column in TRUTH_COLUMNS[table]])


def schema_of(table: str, raw_schema_name: str = RAW_SCHEMA) -> str:
    """The database schema a generated table belongs in."""
    return TRUTH_SCHEMA if table in TRUTH_COLUMNS else raw_schema_name
