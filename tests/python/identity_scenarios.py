"""Raw-contract rows that exercise every identity rule; each case uses its own identifiers."""

from __future__ import annotations

from typing import Any

CHAIN_HOPS = 50
HUB_PARTNERS = 60


def phone(n: int, prefix: str = "139") -> str:
    return f"{prefix}{n:08d}"


def e164(n: int, prefix: str = "139") -> str:
    return f"+86{phone(n, prefix)}"


def member(member_id: str, **fields: Any) -> dict[str, Any]:
    return {"member_id": member_id, "registered_at": "2024-01-01 10:00:00",
            "updated_at": "2024-01-02 10:00:00", **fields}


def order(order_id: str, ts: str = "2024-03-01T10:00:00+08:00", **fields: Any) -> dict[str, Any]:
    return {"order_id": order_id, "platform": "own_site", "order_ts": ts, "status": "paid",
            "total_amount": "100.00", "discount_amount": "0", "currency": "CNY", **fields}


def app_event(event_id: str, device_id: str, user_id: str | None) -> dict[str, Any]:
    return {"event_id": event_id, "device_id": device_id, "user_id": user_id, "platform": "ios",
            "event_name": "app_open", "event_ts": "2024-03-02 08:00:00"}


def web_event(event_id: str, anonymous_id: str, user_id: str | None) -> dict[str, Any]:
    return {"event_id": event_id, "anonymous_id": anonymous_id, "user_id": user_id,
            "event_name": "page_view", "event_ts": "2024-03-02T08:00:00Z"}


def identity_rules_scenario() -> dict[str, list[dict[str, Any]]]:
    crm: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    app: list[dict[str, Any]] = []
    web: list[dict[str, Any]] = []

    # A shop's shared iPad: five members log in on it, each also on a personal phone.
    for i in range(1, 6):
        crm.append(member(f"M_IPAD_{i}", email=f"ipad.user{i}@example.org"))
        app.append(app_event(f"APP_IPAD_{i}", "SHOP-IPAD-0001", f"M_IPAD_{i}"))
        app.append(app_event(f"APP_OWN_{i}", f"OWN-DEVICE-{i}", f"M_IPAD_{i}"))
    # Guests typing a junk email, each with their own phone.
    for i in range(1, 6):
        orders.append(order(f"O_JUNK_{i}", buyer_email=" TEST@test.com ",
                            buyer_phone=phone(100 + i)))
    # A 50-hop chain of guest orders: e0-p0, p0-e1, e1-p1, ... (email/phone rotation).
    for hop in range(CHAIN_HOPS // 2):
        orders.append(order(f"O_CHAIN_{hop}_A", buyer_email=f"chain{hop}@example.net",
                            buyer_phone=phone(1000 + hop)))
        orders.append(order(f"O_CHAIN_{hop}_B", buyer_email=f"chain{hop + 1}@example.net",
                            buyer_phone=phone(1000 + hop)))
    # An unlisted placeholder email used by many guests (a hub).
    for i in range(HUB_PARTNERS):
        orders.append(order(f"O_HUB_{i}", buyer_email="orders@shop-placeholder.example",
                            buyer_phone=phone(5000 + i)))
    # A family: two members sharing one phone; the mother uses it more.
    crm.append(member("M_FAM_MOTHER", phone="138 0000 7777", email="mother@example.com"))
    crm.append(member("M_FAM_FATHER", phone="+86-138-0000-7777", email="father@example.com"))
    orders.append(order("O_FAM_1", member_id="M_FAM_MOTHER", buyer_phone="13800007777"))
    # Two members joined only through a guest order: must stay two customers.
    crm.append(member("M_SPLIT_1", email="split.one@example.com"))
    crm.append(member("M_SPLIT_2", phone=phone(9001)))
    orders.append(order("O_SPLIT", buyer_email="split.one@example.com", buyer_phone=phone(9001)))
    # An ordinary person across web, app, orders and the CRM.
    crm.append(member("M_PLAIN", email="plain@example.com", member_card_no="C_PLAIN"))
    web.append(web_event("W_PLAIN_1", "cookie-plain-1", None))
    web.append(web_event("W_PLAIN_2", "cookie-plain-1", "M_PLAIN"))
    app.append(app_event("APP_PLAIN", "DEVICE-PLAIN", "M_PLAIN"))
    orders.append(order("O_PLAIN", member_id="M_PLAIN", buyer_email="Plain@Example.com"))
    return {"crm_members": crm, "ecom_orders": orders, "app_events": app, "web_events": web}
