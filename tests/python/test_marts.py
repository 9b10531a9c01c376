"""Marts after late data, on a copy of the session's demo build on each warehouse.

Late rows arrive in raw: an event inside the fct_events lookback window, events and an
order long before it, a newer version of a web event long before it, and an old web event
that links an anonymous-only customer's cookie to a member, so identity merges the two
customers and one customer_id is retired; another old web event's newer version trades its
cookie for one never seen. Then the usual incremental run of the marts
alone (`dbt run --select +tag:marts`: staging, identity and marts; not the audiences and
bi views on top: `+marts` would also select the exposures' parents). Checked:
- every late row is in fct_events with the surviving customer, no row keeps a retired id,
  and the incremental fct_events equals a `--full-refresh` build row for row; the opt-in
  data test marts__fct_events_matches_full_refresh (var marts_events_full_refresh_check,
  off in ordinary builds) and marts__fct_events_counts_match_sources pass on the
  incremental result;
- identity_identifier_occurrences and identity_source_records, incremental by record,
  rewrote the touched records only and equal a `--full-refresh` build;
- the bi views over the rebuilt marts still answer (on PostgreSQL, rebuilding a table
  used to drop the views on it: macros/portability/materialization_table_postgres.sql).
And on the demo build itself: every column of every relation in marts, bi and audiences
is described in the models' YAML (what `dbt docs generate` shows).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from tests.python.cdp_testing import PROJECT_DIR, WEB_EVENT_COLUMNS, Warehouse
from tests.python.engine_comparison import relation_columns

EVENT_COLUMNS = ("event_id, customer_id, event_type, channel, source_name, source_key, "
                 "occurred_at, event_date, revenue, event_context")
RE_VERSIONED_URL = "https://www.shop.example.cn/re-versioned"
RE_KEYED_COOKIE = "late-re-keyed-cookie"
IDENTITY_RECORDS = {
    "identity_identifier_occurrences": "source_name, source_key, seen_at, identifier_type, "
                                       "identifier_value, node_id, is_blocklisted",
    "identity_source_records": "source_name, source_key, customer_id, matched_identifier_type",
}
CUSTOMER_MARTS = {"int_customer_attributes_survived": "intermediate", "dim_customers": "marts",
                  "customer_consent": "marts"}
LATE_CONSENT_ID = "LATE-CONSENT-1"
LATE_EVENT_IDS = ("web_events:LATE-W-IN", "web_events:LATE-W-MERGE", "app_events:LATE-A-OUT",
                  "ecom_orders:LATE-O-OUT")


@dataclass
class LateDataRun:
    warehouse: Warehouse
    lookback_days: int
    latest_before: dict[str, dt.datetime]      # per source, latest occurred_at before the run
    late_occurred_at: dict[str, dt.datetime]   # per late event id
    member_customer_id: str
    anonymous_customer_id: str
    anonymous_old_event_ids: list[str]
    re_versioned: tuple[str, dt.datetime]      # an old event given a newer version, its time
    re_keyed: str                              # an old web event's newer version, new cookie
    bi_counts_after: dict[str, Any] = field(default_factory=dict)  # row count or the error
    data_test_error: str | None = None  # the fct_events data tests after the run


def _timestamp(value: dt.datetime) -> str:
    return f"cast('{value:%Y-%m-%d %H:%M:%S}' as timestamp)"


def _raw_ts(value: dt.datetime) -> str:
    return f"{value:%Y-%m-%dT%H:%M:%SZ}"


def _assert_same_rows(name: str, incremental: set[tuple[Any, ...]],
                      full_refresh: set[tuple[Any, ...]]) -> None:
    only_incremental = sorted(incremental - full_refresh, key=str)[:5]
    only_full_refresh = sorted(full_refresh - incremental, key=str)[:5]
    assert incremental == full_refresh, (
        f"{name}: only in the incremental build: {only_incremental}; "
        f"only in the full refresh: {only_full_refresh}")


def _events(warehouse: Warehouse) -> list[tuple[Any, ...]]:
    return warehouse.query(f"select {EVENT_COLUMNS} from marts.fct_events order by event_id")


@pytest.fixture(scope="module")
def late_run(demo: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LateDataRun]:
    warehouse = demo.clone(tmp_path_factory.mktemp(f"late_{demo.target}"))
    try:
        yield _run_with_late_rows(warehouse)
    finally:
        warehouse.drop()


def _run_with_late_rows(warehouse: Warehouse) -> LateDataRun:
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    lookback_days = int(project["vars"]["marts_events_lookback_days"])
    latest = dict(warehouse.query(
        "select source_name, max(occurred_at) from marts.fct_events group by source_name"))
    web_cutoff = latest["web_events"] - dt.timedelta(days=lookback_days)

    (member_customer_id, member_id), (_, consenting_member_id) = warehouse.query(
        "select customer_id, member_id from marts.dim_customers"
        " where member_id is not null order by customer_id limit 2")
    # A customer known only by one web cookie, with events from before the web window.
    anonymous = warehouse.query(f"""
        with anonymous_only as (
            select customer_id, min(identifier_value) as anonymous_id
            from identity.customer_identifiers
            group by customer_id
            having count(*) = 1 and min(identifier_type) = 'anonymous_id'
        )
        select anonymous_only.customer_id, anonymous_only.anonymous_id
        from anonymous_only
        inner join marts.fct_events as events
            on anonymous_only.customer_id = events.customer_id
        where events.occurred_at < {_timestamp(web_cutoff)}
        group by anonymous_only.customer_id, anonymous_only.anonymous_id
        order by anonymous_only.customer_id
        limit 1
    """)
    assert anonymous, "the demo must hold an anonymous-only customer with old web events"
    anonymous_customer_id, cookie = anonymous[0]
    anonymous_old_event_ids = [row[0] for row in warehouse.query(
        f"select event_id from marts.fct_events where customer_id = '{anonymous_customer_id}'"
        f" and occurred_at < {_timestamp(web_cutoff)}")]

    # An old web event (one raw row, long before the window) given a newer version: the
    # kept version changes (page_url, time), which only staged_at shows an incremental run.
    ((re_versioned_id, re_versioned_at),) = warehouse.query(f"""
        select events.source_key, events.occurred_at
        from marts.fct_events as events
        inner join raw.web_events as raw_events on events.source_key = raw_events.event_id
        where events.source_name = 'web_events'
            and events.occurred_at < {_timestamp(web_cutoff - dt.timedelta(days=30))}
            and events.customer_id <> '{anonymous_customer_id}'
        group by events.source_key, events.occurred_at
        having count(*) = 1
        order by events.source_key
        limit 1
    """)
    new_version_at = (re_versioned_at + dt.timedelta(hours=1)).replace(microsecond=0)
    re_versioned_raw = warehouse.raw_row("web_events", WEB_EVENT_COLUMNS,
                                         f"event_id = '{re_versioned_id}'")
    # Another old web event whose newer version carries a cookie never seen before and no
    # member: the record loses its identifiers for a new one (identity, incrementally).
    ((re_keyed_id,),) = warehouse.query(f"""
        select min(raw_events.event_id)
        from raw.web_events as raw_events
        inner join marts.fct_events as events
            on events.source_name = 'web_events' and events.source_key = raw_events.event_id
        where events.occurred_at < {_timestamp(web_cutoff - dt.timedelta(days=30))}
            and raw_events.event_id <> '{re_versioned_id}'
            and raw_events.anonymous_id is not null
            and events.customer_id <> '{anonymous_customer_id}'
    """)
    re_keyed_raw = warehouse.raw_row("web_events", WEB_EVENT_COLUMNS,
                                     f"event_id = '{re_keyed_id}'")

    late_occurred_at = {
        "web_events:LATE-W-IN": latest["web_events"] - dt.timedelta(days=1),
        "web_events:LATE-W-MERGE": latest["web_events"] - dt.timedelta(days=250),
        "app_events:LATE-A-OUT": latest["app_events"] - dt.timedelta(days=200),
        "ecom_orders:LATE-O-OUT": latest["ecom_orders"] - dt.timedelta(days=300),
    }
    at = {key.split(":")[1]: _raw_ts(value) for key, value in late_occurred_at.items()}
    bi_relations = [row[0] for row in warehouse.query(
        "select table_name from information_schema.tables where table_schema = 'bi'"
        " order by table_name")]

    warehouse.load_raw({
        "web_events": [
            {**re_versioned_raw, "page_url": RE_VERSIONED_URL,
             "event_ts": _raw_ts(new_version_at)},
            {**re_keyed_raw, "anonymous_id": RE_KEYED_COOKIE, "user_id": None,
             "event_ts": _raw_ts(new_version_at)},
            {"event_id": "LATE-W-IN", "anonymous_id": "late-cookie-in", "user_id": member_id,
             "event_name": "page_view", "page_url": "https://www.shop.example.cn/",
             "event_ts": at["LATE-W-IN"]},
            # the anonymous customer's cookie seen logged in as the member: a merge
            {"event_id": "LATE-W-MERGE", "anonymous_id": cookie, "user_id": member_id,
             "event_name": "login", "page_url": "https://www.shop.example.cn/account/login",
             "event_ts": at["LATE-W-MERGE"]},
        ],
        "app_events": [
            {"event_id": "LATE-A-OUT", "device_id": "LATE-DEVICE-1", "user_id": member_id,
             "platform": "ios", "app_version": "6.0.0", "event_name": "app_open",
             "event_ts": at["LATE-A-OUT"]},
        ],
        "ecom_orders": [
            {"order_id": "LATE-O-OUT", "member_id": member_id, "platform": "tmall",
             "order_ts": at["LATE-O-OUT"], "status": "completed", "total_amount": "199.00",
             "discount_amount": "20.00", "currency": "CNY", "shipping_city": "Shanghai"},
        ],
        # Another member's new consent: only the staged consent event touches them.
        "consent_events": [
            {"consent_event_id": LATE_CONSENT_ID, "identifier_type": "member_id",
             "identifier_value": consenting_member_id, "channel": "sms",
             "purpose": "marketing", "status": "granted", "event_ts": at["LATE-W-IN"],
             "source": "late-test"},
        ],
        "ecom_order_items": [
            {"order_id": "LATE-O-OUT", "line_no": "1", "sku": "SKU-10001",
             "product_name": "late item", "category": "beauty", "quantity": "1",
             "unit_price": "199.00"},
        ],
    }, append=True)

    warehouse.dbt("run", "--select", "+tag:marts")

    run = LateDataRun(warehouse, lookback_days, latest, late_occurred_at, member_customer_id,
                      anonymous_customer_id, anonymous_old_event_ids,
                      (f"web_events:{re_versioned_id}", new_version_at), re_keyed_id)
    try:
        warehouse.dbt("test", "--select", "marts__fct_events_matches_full_refresh",
                      "marts__fct_events_counts_match_sources",
                      "--vars", "{marts_events_full_refresh_check: true}")
    except AssertionError as error:
        run.data_test_error = str(error)
    for relation in bi_relations:
        try:
            run.bi_counts_after[relation] = warehouse.query(
                f"select count(*) from bi.{relation}")[0][0]
        except Exception as error:  # noqa: BLE001 - reported by the test
            run.bi_counts_after[relation] = f"{type(error).__name__}: {error}"
    return run


def test_late_rows_reach_fct_events_with_the_surviving_customer(late_run: LateDataRun) -> None:
    warehouse = late_run.warehouse
    # The late rows are the cases meant: one inside the lookback window, three before it.
    for event_id, occurred_at in late_run.late_occurred_at.items():
        cutoff = (late_run.latest_before[event_id.split(":")[0]]
                  - dt.timedelta(days=late_run.lookback_days))
        assert (occurred_at >= cutoff) == event_id.endswith("-IN"), (event_id, occurred_at)
    assert late_run.anonymous_old_event_ids, "the merged customer must have old events"

    # The run was incremental: rows of the demo build were kept, not rewritten.
    runs = warehouse.query("select processed_at, count(*) from marts.fct_events"
                           " group by processed_at order by processed_at")
    assert len(runs) >= 2 and runs[0][1] > 100, runs
    # ... and most of them were left alone: the run rewrote its window, the late rows and
    # the merged customer's events, not every event staged by the demo build's run.
    assert runs[-1][1] * 4 < sum(count for _, count in runs), runs

    # Identity merged the anonymous customer and the member: one of the two ids is retired.
    mapped = dict(warehouse.query(f"""
        select customer_id, current_customer_id from intermediate.int_customer_ids_resolved
        where customer_id in ('{late_run.member_customer_id}',
                              '{late_run.anonymous_customer_id}')
    """))
    survivor = mapped[late_run.member_customer_id]
    assert survivor is not None and mapped[late_run.anonymous_customer_id] == survivor, mapped
    retired = ({late_run.member_customer_id, late_run.anonymous_customer_id} - {survivor})
    assert len(retired) == 1, mapped

    ids = ", ".join(f"'{event_id}'" for event_id in
                    [*LATE_EVENT_IDS, *late_run.anonymous_old_event_ids])
    customers = dict(warehouse.query(
        f"select event_id, customer_id from marts.fct_events where event_id in ({ids})"))
    assert set(customers) == {*LATE_EVENT_IDS, *late_run.anonymous_old_event_ids}
    assert set(customers.values()) == {survivor}, customers
    revenue = warehouse.query(
        "select revenue from marts.fct_events where event_id = 'ecom_orders:LATE-O-OUT'")
    assert float(revenue[0][0]) == 179.0
    stale = warehouse.query("""
        select count(*) from marts.fct_events as events
        inner join intermediate.int_customer_ids_resolved as ids
            on events.customer_id = ids.customer_id
        where not ids.is_active
    """)[0][0]
    assert stale == 0, "no event may keep a retired customer_id"


def test_a_newer_version_of_an_old_event_replaces_it(late_run: LateDataRun) -> None:
    # Long before the lookback window: the incremental run finds it by staged_at.
    event_id, occurred_at = late_run.re_versioned
    cutoff = (late_run.latest_before["web_events"]
              - dt.timedelta(days=late_run.lookback_days))
    assert occurred_at < cutoff, (occurred_at, cutoff)
    rows = late_run.warehouse.query(
        "select event_context, occurred_at from marts.fct_events"
        f" where event_id = '{event_id}'")
    assert rows == [(RE_VERSIONED_URL, occurred_at)], rows


def test_fct_events_data_tests_pass_after_the_incremental_run(late_run: LateDataRun) -> None:
    assert late_run.data_test_error is None, late_run.data_test_error


def test_incremental_fct_events_equals_full_refresh(late_run: LateDataRun) -> None:
    warehouse = late_run.warehouse
    incremental = _events(warehouse)
    warehouse.dbt("run", "--full-refresh", "--select", "fct_events")
    full_refresh = _events(warehouse)
    assert len(warehouse.query(
        "select distinct processed_at from marts.fct_events")) == 1, "not a full refresh"
    assert len(full_refresh) > 1000
    only_incremental = sorted(set(incremental) - set(full_refresh), key=str)
    only_full_refresh = sorted(set(full_refresh) - set(incremental), key=str)
    assert not only_incremental and not only_full_refresh, (
        f"only in the incremental build: {only_incremental[:5]}; "
        f"only in the full refresh: {only_full_refresh[:5]}")
    assert incremental == full_refresh


def test_incremental_customer_marts_equal_full_refresh(late_run: LateDataRun) -> None:
    """dim_customers, int_customer_attributes_survived and customer_consent are incremental
    by customer: the run recomputed the touched customers only (the merged pair, the
    member's late rows, the customer the re-keyed event left, found through
    identity_customer_touches alone, the member named by a new consent event alone),
    deleted the retired customer's rows, and equals a full refresh column for column."""
    warehouse = late_run.warehouse
    retired = warehouse.query(f"""
        select customer_id from intermediate.int_customer_ids_resolved
        where customer_id in ('{late_run.member_customer_id}',
                              '{late_run.anonymous_customer_id}')
            and not is_active
    """)
    assert len(retired) == 1, retired
    touched = warehouse.query(
        "select customer_id from identity.identity_customer_touches"
        " where customer_id is not null")
    assert touched, "the re-keyed event must leave its customer through the touch log"
    for model, schema in CUSTOMER_MARTS.items():
        stamps = warehouse.query(f"select refreshed_at, count(*) from {schema}.{model}"
                                 " group by refreshed_at order by refreshed_at")
        total = sum(count for _, count in stamps)
        assert len(stamps) >= 2 and stamps[-1][1] < total / 4, (
            f"{model}: the run should recompute the touched customers only: {stamps}")
    assert not warehouse.query(
        f"select customer_id from marts.dim_customers where customer_id = '{retired[0][0]}'")
    consent = warehouse.query(
        "select consent_status from marts.customer_consent"
        f" where consent_event_id = '{LATE_CONSENT_ID}' and channel = 'sms'")
    assert consent == [("granted",)], consent

    def rows(model: str, schema: str) -> set[tuple[Any, ...]]:
        columns = [column for column in relation_columns(warehouse, f"{schema}.{model}")
                   if column != "refreshed_at"]
        return set(warehouse.query(f"select {', '.join(columns)} from {schema}.{model}"))

    incremental = {model: rows(model, schema) for model, schema in CUSTOMER_MARTS.items()}
    warehouse.dbt("run", "--full-refresh", "--select", *CUSTOMER_MARTS)
    for model, schema in CUSTOMER_MARTS.items():
        full_refresh = rows(model, schema)
        assert len(full_refresh) > 100
        _assert_same_rows(model, incremental[model], full_refresh)


def test_incremental_identity_records_equal_full_refresh(late_run: LateDataRun) -> None:
    """Occurrences and record customers are incremental by record: the run rewrote the
    touched records only (the re-keyed event lost its cookie for a new one, the merge moved
    the anonymous customer's records) and equals a full refresh."""
    warehouse = late_run.warehouse
    re_keyed = warehouse.query(
        "select identifier_type, identifier_value from identity.identity_identifier_occurrences"
        f" where source_name = 'web_events' and source_key = '{late_run.re_keyed}'")
    assert re_keyed == [("anonymous_id", RE_KEYED_COOKIE)]
    stamps = warehouse.query("select resolved_at, count(*) from identity.identity_source_records"
                             " group by resolved_at order by resolved_at")
    total = sum(count for _, count in stamps)
    assert len(stamps) >= 2 and stamps[-1][1] < total / 4, (
        f"the incremental run should resolve the touched records only: {stamps}")
    incremental = {name: set(warehouse.query(f"select {columns} from identity.{name}"))
                   for name, columns in IDENTITY_RECORDS.items()}
    warehouse.dbt("run", "--full-refresh", "--select", *IDENTITY_RECORDS)
    for name, columns in IDENTITY_RECORDS.items():
        full_refresh = set(warehouse.query(f"select {columns} from identity.{name}"))
        assert len(full_refresh) > 1000
        _assert_same_rows(name, incremental[name], full_refresh)


def test_bi_views_answer_after_the_marts_alone_are_rebuilt(late_run: LateDataRun) -> None:
    counts = late_run.bi_counts_after
    assert {"dim_customers", "fct_events", "fct_orders", "customer_tags"} <= set(counts)
    broken = {name: count for name, count in counts.items() if not isinstance(count, int)}
    assert not broken, f"bi relations broken by `dbt run --select +tag:marts`: {broken}"
    assert counts["dim_customers"] > 0 and counts["fct_orders"] > 0


def test_every_column_of_marts_bi_and_audiences_is_described(demo: Warehouse) -> None:
    manifest = json.loads((demo.workdir / "target" / "manifest.json").read_text())
    schemas = ("marts", "bi", "audiences")
    described: dict[tuple[str, str], set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["schema"] in schemas:
            assert node["description"].strip(), f"{node['name']} has no description"
            described[(node["schema"], node["alias"] or node["name"])] = {
                name.lower() for name, column in node["columns"].items()
                if (column.get("description") or "").strip()
            }
    listed = ", ".join(f"'{schema}'" for schema in schemas)
    columns = demo.query(
        "select table_schema, table_name, column_name from information_schema.columns"
        f" where table_schema in ({listed})")
    built = {(schema, table) for schema, table, _ in columns}
    assert built == set(described), built ^ set(described)
    undescribed = [f"{schema}.{table}.{column}" for schema, table, column in columns
                   if column.lower() not in described[(schema, table)]]
    assert not undescribed, undescribed
