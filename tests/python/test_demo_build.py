"""The demo end to end on each warehouse: generator -> raw -> `dbt build` (every model and
test; the session's `demo` fixture in conftest.py), then checks against the raw data and
the generator's ground truth."""

from __future__ import annotations

from tests.python.cdp_testing import RAW_CONTRACT, Warehouse
from tests.python.conftest import DEMO_PEOPLE
from tests.python.identity_quality import score_identity

STAGED = {
    "crm_members": "stg_crm__members", "ecom_orders": "stg_ecom__orders",
    "ecom_order_items": "stg_ecom__order_items", "web_events": "stg_web__events",
    "app_events": "stg_app__events", "pos_transactions": "stg_pos__transactions",
    "wechat_followers": "stg_wechat__followers", "service_tickets": "stg_service__tickets",
    "consent_events": "stg_consent__events",
    "deletion_requests": "stg_privacy__deletion_requests",
}


def test_every_raw_row_is_staged_or_rejected(demo: Warehouse) -> None:
    for source, model in STAGED.items():
        raw = demo.query(f"select count(*) from raw.{source}")[0][0]
        staged = demo.query(f"select count(*) from staging.{model}")[0][0]
        rejected = demo.query(
            "select count(*) from staging.stg_quarantine"
            f" where source_name = '{source}' and is_row_rejected")[0][0]
        assert raw > 0, f"the demo must fill raw.{source}"
        assert raw == staged + rejected, source
    assert set(STAGED) == set(RAW_CONTRACT)


def test_every_staged_identifier_record_has_a_customer(demo: Warehouse) -> None:
    unresolved = demo.query("""
        select occurrences.source_name, occurrences.source_key
        from identity.identity_identifier_occurrences as occurrences
        left join identity.identity_source_records as records
            on occurrences.source_name = records.source_name
                and occurrences.source_key = records.source_key
        where records.customer_id is null and not occurrences.is_blocklisted
        group by occurrences.source_name, occurrences.source_key
    """)
    # only records whose every identifier is excluded (contested, hub) may lack a customer
    excluded = {row[0] for row in demo.query(
        "select identifier_value from identity.identity_exclusions")}
    assert len(unresolved) <= len(excluded) * 5, unresolved[:10]


def test_identity_precision_and_recall_against_ground_truth(demo: Warehouse) -> None:
    scores = score_identity(demo)
    print(f"\n[{demo.target}] identity on {DEMO_PEOPLE} people: precision {scores.precision:.4f}, "
          f"recall {scores.resolvable_recall:.4f} of {scores.resolvable_pairs} resolvable pairs "
          f"({scores.recall:.4f} of all {scores.true_pairs} true pairs, some never linked "
          f"by any record), {scores.scored_identifiers} identifiers scored")
    assert scores.precision >= 0.999
    assert scores.resolvable_recall >= 0.99
