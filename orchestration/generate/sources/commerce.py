"""ecom_orders and ecom_order_items: member and guest orders, guest identifier chains,
junk identifiers typed by many different buyers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generate import identifiers as ids
from orchestration.generate import messy, text, vocab
from orchestration.generate.batch import BAD_ROW_SHARE, Batch
from orchestration.generate.catalog import catalog
from orchestration.generate.groups import rank_within, starts
from orchestration.generate.people import Profiles
from orchestration.generate.streams import choose

PLATFORMS = ("tmall", "jd", "own_site", "miniprogram")
PLATFORM_WEIGHTS = (35, 25, 25, 15)
STATUSES = ("completed", "shipped", "paid", "refunded", "cancelled")
STATUS_WEIGHTS = (60, 12, 8, 10, 10)
CURRENCIES = ("CNY", "cny", "RMB", "")
CURRENCY_WEIGHTS = (96, 2, 1, 1)
ITEM_COUNT_WEIGHTS = (50, 30, 15, 5)  # 1..4 lines per order
QUANTITY_WEIGHTS = (75, 18, 7)  # 1..3
GUEST_CHECKOUT_SHARE = 0.10  # members who check out without logging in
JUNK_SHARE = 0.03  # guest orders typed with a junk email or the junk phone
TIMESTAMP_WEIGHTS = {
    messy.ISO_SHANGHAI: 4,
    messy.SPACE: 3,
    messy.ISO_Z: 2,
    messy.ISO_MILLIS_UTC: 1,
}
PHONE_WEIGHTS = {
    messy.PLAIN: 5,
    messy.E164: 2,
    messy.COUNTRY: 1,
    messy.DASHED: 1,
    messy.SPACED: 1,
    messy.PARENTHESES: 0.5,
    messy.DOUBLE_ZERO: 0.5,
}
EMAIL_WEIGHTS = {messy.AS_IS: 7, messy.UPPER: 1, messy.TITLE: 1, messy.PADDED: 1}
MONEY_WEIGHTS = {messy.DECIMAL: 6, messy.GROUPED: 1, messy.YUAN: 1, messy.SHORT: 2}
MISSING_ID, BAD_TS, BAD_TOTAL, NEGATIVE_TOTAL, BAD_EMAIL, BAD_PHONE = 1, 2, 3, 4, 5, 6
ITEM_MISSING_ORDER, ITEM_BAD_QUANTITY, ITEM_BAD_PRICE = 1, 2, 3


def build(batch: Batch) -> tuple[pa.Table, pa.Table]:
    rng = batch.rng("ecom_orders")
    buyers = batch.who(batch.profiles.buys_online)
    order_counts = rng.geometric(2 / 3, len(buyers))  # 1.5 orders a buyer on average
    rows = buyers.take(np.repeat(np.arange(len(buyers)), order_counts))
    order_ts = batch.times(rng, rows.since, tail=0.8)
    order_ts = order_ts[
        np.lexsort((order_ts, rows.person))
    ]  # rows stay grouped by person
    rank = rank_within(order_counts)
    size = len(rank)

    junk_first = rows.junk_guest & (rank == 0)
    guest = ~rows.has_crm | (rng.random(size) < GUEST_CHECKOUT_SHARE) | junk_first
    email_keys, phone_numbers, has_email, has_phone = _buyer_contacts(
        batch, rng, rows, rank, guest, junk_first
    )
    bad = messy.plan_bad_rows(rng, size, BAD_ROW_SHARE, 6, eligible=~junk_first)
    items, gross = _items(batch, rng, size, _order_ids(batch, size))
    discount = np.where(
        rng.random(size) < 0.4,
        gross * rng.choice([5, 10, 20], size) // 100 // 100 * 100,
        0,
    )
    total = np.where(bad == NEGATIVE_TOTAL, -(gross - discount), gross - discount)

    columns = {
        "order_id": messy.blank_out(rng, _order_ids(batch, size), bad == MISSING_ID),
        "member_id": messy.blank_out(
            rng, messy.pad(rng, ids.member_id(rows.person), 0.01), guest
        ),
        "buyer_email": messy.replace_with(
            rng,
            messy.blank_out(
                rng,
                messy.emails(rng, ids.email(batch.world, email_keys), EMAIL_WEIGHTS),
                ~has_email,
            ),
            bad == BAD_EMAIL,
            messy.BAD_EMAILS,
        ),
        "buyer_phone": messy.replace_with(
            rng,
            messy.blank_out(
                rng, messy.phones(rng, phone_numbers, PHONE_WEIGHTS), ~has_phone
            ),
            bad == BAD_PHONE,
            messy.BAD_PHONES,
        ),
        "platform": text.pick(PLATFORMS, choose(rng, size, PLATFORM_WEIGHTS)),
        "order_ts": messy.replace_with(
            rng,
            messy.timestamps(rng, order_ts, TIMESTAMP_WEIGHTS),
            bad == BAD_TS,
            messy.BAD_TIMESTAMPS,
        ),
        "status": text.pick(STATUSES, choose(rng, size, STATUS_WEIGHTS)),
        "total_amount": messy.replace_with(
            rng,
            messy.money(rng, total, MONEY_WEIGHTS),
            bad == BAD_TOTAL,
            messy.BAD_AMOUNTS,
        ),
        "discount_amount": messy.money(rng, discount, MONEY_WEIGHTS),
        "currency": text.pick(CURRENCIES, choose(rng, size, CURRENCY_WEIGHTS)),
        "shipping_city": _shipping_cities(rng, rows.city),
    }
    good = bad == 0
    batch.sightings.add(ids.MEMBER_ID, rows.person, rows.person, good & ~guest)
    batch.sightings.add(ids.EMAIL, rows.person, email_keys, good & has_email)
    batch.sightings.add(ids.PHONE, rows.person, phone_numbers, good & has_phone)
    return batch.table("ecom_orders", columns, rng), items


def _order_ids(batch: Batch, size: int) -> pa.Array:
    return batch.ids("O", size)


def _buyer_contacts(
    batch: Batch,
    rng: np.random.Generator,
    rows: Profiles,
    rank: np.ndarray,
    guest: np.ndarray,
    junk_first: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Email keys and phone numbers typed at checkout, and whether each was given.

    Members' orders carry their profile email and phone. Guests who order repeatedly
    drift: order 1 email1+phone1, order 2 email2+phone1, order 3 email2+phone2, ...
    """
    size = len(rank)
    chain = guest & rows.guest_chain
    email_number = np.where(
        chain, np.minimum((rank + 1) // 2, ids.EMAILS_PER_PERSON - 1), 0
    )
    phone_number = np.where(chain, np.minimum(rank // 2, ids.PHONES_PER_PERSON - 1), 0)
    email_keys = ids.email_key(rows.person, email_number)
    phones = ids.phone_number(batch.world, rows.person, phone_number)
    has_email = rng.random(size) < np.where(guest, 0.85, 0.7)
    has_phone = rng.random(size) < np.where(guest, 0.85, 0.75)
    has_phone |= guest & ~has_email

    junk = (guest & (rng.random(size) < JUNK_SHARE)) | junk_first
    junk_email = junk & ((rng.random(size) < 0.7) | junk_first)
    junk_phone = junk & ~junk_email
    which = np.where(junk_first, rows.person, rng.integers(0, 3, size)) % len(
        vocab.JUNK_EMAILS
    )
    email_keys = np.where(junk_email, ids.junk_email_key(which), email_keys)
    phones = np.where(junk_phone, vocab.JUNK_PHONE, phones)
    has_email |= junk_email | junk_phone
    has_phone |= junk_email | junk_phone
    return email_keys, phones, has_email, has_phone


def _items(
    batch: Batch, rng: np.random.Generator, orders: int, order_ids: pa.Array
) -> tuple[pa.Table, np.ndarray]:
    """Order lines, and each order's gross value in cents."""
    products = catalog()
    line_counts = 1 + choose(rng, orders, ITEM_COUNT_WEIGHTS)
    order_of_line = np.repeat(np.arange(orders), line_counts)
    size = len(order_of_line)
    product = products.popular(rng.random(size))
    quantity = 1 + choose(rng, size, QUANTITY_WEIGHTS)
    price = products.price_cents[product]
    gross = (
        np.add.reduceat(quantity * price, starts(line_counts))
        if orders
        else np.zeros(0)
    )
    bad = messy.plan_bad_rows(rng, size, BAD_ROW_SHARE, 3)
    unit_price = np.where(
        (bad == ITEM_BAD_PRICE) & (rng.random(size) < 0.5), -price, price
    )
    columns = {
        "order_id": messy.blank_out(
            rng, order_ids.take(pa.array(order_of_line)), bad == ITEM_MISSING_ORDER
        ),
        "line_no": text.integers(rank_within(line_counts) + 1),
        "sku": messy.pad(rng, products.sku.take(pa.array(product)), 0.01),
        "product_name": products.name.take(pa.array(product)),
        "category": products.category.take(pa.array(product)),
        "quantity": messy.replace_with(
            rng,
            text.integers(quantity),
            bad == ITEM_BAD_QUANTITY,
            ("abc", "-1", "1.5.0", ""),
        ),
        "unit_price": messy.replace_with(
            rng,
            messy.money(rng, unit_price, {messy.DECIMAL: 8, messy.SHORT: 2}),
            (bad == ITEM_BAD_PRICE) & (unit_price > 0),
            messy.BAD_AMOUNTS,
        ),
    }
    return batch.table("ecom_order_items", columns, rng), gross


def _shipping_cities(rng: np.random.Generator, city: np.ndarray) -> pa.Array:
    size = len(city)
    elsewhere = rng.random(size) < 0.15
    shown = np.where(elsewhere, rng.integers(0, len(vocab.CITIES), size), city)
    cities = text.pick([h for h, _ in vocab.CITIES], shown)
    latin = rng.random(size) < 0.1
    cities = text.where(latin, text.pick([p for _, p in vocab.CITIES], shown), cities)
    return messy.blank_out(rng, cities, rng.random(size) < 0.05)
