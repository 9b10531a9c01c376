"""Incremental base models: a run after new raw rows equals a full refresh, on each warehouse.

The staging base_* tables are incremental on source_row_id (dbt_project.yml): a run stages
only the raw rows it has not staged yet and re-ranks the kept versions of the keys those
rows touch. Here a small generated batch is staged, the next daily batch is appended with
rows meant to catch the re-ranking and numbering out: a newer version of a kept event (the
old one must become duplicate_key), an older version of another (the new one is the
duplicate), an exact copy of a raw row (numbered -2, as a full build numbers it), a newer
CRM version of a member, and a row rejected as out of range. Then every base table must
equal, row for row and column for column (staged_at aside), what `--full-refresh` builds
from the same raw rows; the run must have been incremental (an untouched row edited in
place survives) and have stamped staged_at on the rows it wrote (new rows and re-ranked
kept versions), only those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.python.cdp_testing import WEB_EVENT_COLUMNS, Warehouse
from tests.python.engine_comparison import relation_columns

BASE_MODELS = (
    "base_crm__members", "base_ecom__orders", "base_ecom__order_items", "base_web__events",
    "base_app__events", "base_pos__transactions", "base_wechat__followers",
    "base_service__tickets", "base_consent__events", "base_privacy__deletion_requests",
)
MARKER = "kept-by-the-incremental-run"


def _rows(warehouse: Warehouse, model: str) -> list[tuple[Any, ...]]:
    """Every row, every column but staged_at (when the run wrote the row)."""
    columns = [column for column in relation_columns(warehouse, f"staging.{model}")
               if column != "staged_at"]
    assert columns, model
    return sorted(warehouse.query(f"select {', '.join(columns)} from staging.{model}"),
                  key=repr)


def test_incremental_base_models_equal_a_full_refresh(warehouse: Warehouse,
                                                       tmp_path: Path) -> None:
    warehouse.load_generated(people=300, seed=7)
    warehouse.dbt("run", "--select", "staging")

    # Two kept events (first by event_id, so the same on every engine) to give new versions.
    newer_id, older_id = (row[0] for row in warehouse.query(
        "select event_id from staging.base_web__events where rejection_reason is null"
        " order by event_id limit 2"))
    newer = warehouse.raw_row("web_events", WEB_EVENT_COLUMNS,
                              f"event_id = '{newer_id}' limit 1")
    older = warehouse.raw_row("web_events", WEB_EVENT_COLUMNS,
                              f"event_id = '{older_id}' limit 1")
    (member_id,) = warehouse.query(
        "select member_id from staging.base_crm__members where rejection_reason is null"
        " order by member_id limit 1")[0]
    # An untouched kept row edited in place: a full rebuild would restore it.
    (untouched_id,) = warehouse.query(
        "select source_row_id from staging.base_web__events where rejection_reason is null"
        f" and event_id not in ('{newer_id}', '{older_id}') order by source_row_id limit 1")[0]
    warehouse.execute(f"update staging.base_web__events set page_url = '{MARKER}'"
                    f" where source_row_id = '{untouched_id}'")
    kept_before = [row[0] for row in warehouse.query(
        "select source_row_id from staging.base_web__events where rejection_reason is null"
        f" and event_id in ('{newer_id}', '{older_id}')")]

    warehouse.load_generated(people=300, seed=7, batch=1, mode="append")
    warehouse.load_raw({
        "web_events": [
            {**newer, "event_ts": "2099-01-01T00:00:00Z", "page_url": "https://x/out-of-range"},
            {**newer, "event_ts": "2026-06-01T00:00:00Z", "page_url": "https://x/newer"},
            {**older, "event_ts": "2001-01-01T00:00:00Z", "page_url": "https://x/older"},
            older,  # an exact copy of a raw row
        ],
        "crm_members": [{"member_id": member_id, "name": "新版本 New Version",
                         "email": "new.version@example.com",
                         "updated_at": "2026-06-01 08:00:00+08:00"}],
    }, append=True)

    warehouse.dbt("run", "--select", "staging")
    incremental = {model: _rows(warehouse, model) for model in BASE_MODELS}
    (page_url,) = warehouse.query("select page_url from staging.base_web__events"
                                  f" where source_row_id = '{untouched_id}'")[0]
    assert page_url == MARKER, "the base model was rebuilt, not run incrementally"
    # staged_at marks what the run wrote: new rows and the kept versions it re-ranked, not
    # the rows it left alone (downstream models read what changed by it).
    row_ids = ", ".join(f"'{row_id}'" for row_id in [untouched_id, *kept_before])
    stamps = dict(warehouse.query(
        "select source_row_id, staged_at from staging.base_web__events"
        f" where source_row_id in ({row_ids})"))
    (latest,) = warehouse.query("select max(staged_at) from staging.base_web__events")[0]
    assert stamps[untouched_id] < latest, stamps
    assert len(kept_before) == 2 and all(stamps[row_id] == latest for row_id in kept_before), (
        stamps, kept_before)

    versions = warehouse.query(f"""
        select page_url, rejection_reason, source_row_id from staging.base_web__events
        where event_id in ('{newer_id}', '{older_id}') order by event_id, page_url""")
    kept = {url for url, reason, _ in versions if reason is None}
    assert "https://x/newer" in kept and "https://x/older" not in kept, versions
    assert any(reason == "timestamp_out_of_range" for _, reason, _ in versions), versions
    assert any(row_id.endswith("-2") for *_, row_id in versions), versions
    (name,) = warehouse.query("select full_name from staging.stg_crm__members"
                              f" where member_id = '{member_id}'")[0]
    assert name == "新版本 New Version"

    warehouse.dbt("run", "--full-refresh", "--select", "staging")
    full = {model: _rows(warehouse, model) for model in BASE_MODELS}
    for model in BASE_MODELS:
        rows, full_rows = set(incremental[model]), set(full[model])
        if model == "base_web__events":  # the edited row aside (a full refresh restores it)
            edited = {row for row in rows if row[0] == untouched_id}
            restored = {row for row in full_rows if row[0] == untouched_id}
            assert len(edited) == len(restored) == 1 and MARKER not in next(iter(restored))
            rows, full_rows = rows - edited, full_rows - restored
        only_incremental = sorted(rows - full_rows, key=repr)
        only_full = sorted(full_rows - rows, key=repr)
        assert not only_incremental and not only_full, (
            f"{model}: only incremental {only_incremental[:3]}; only full {only_full[:3]}")
        assert len(incremental[model]) == len(full[model]), model
