"""The demo-data generator, its loaders and `cdp generate`, through their public entry points."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner
from psycopg import sql

from orchestration.cli import main
from orchestration.generate import (
    IDENTIFIER_TYPES,
    RAW_COLUMNS,
    RAW_KEYS,
    TRUTH_COLUMNS,
    ensure_database,
    generate,
    iter_tables,
    load_duckdb,
    load_postgres,
)
from orchestration.warehouse import PostgresSettings, find_project_dir, warehouse_for

PEOPLE = 400
SEED = 7
JUNK_EMAILS = ("test@test.com", "a@a.com", "noemail@noemail.com")
BAD_EMAILS = ("foo@", "bar.com")
BAD_PHONES = ("12345",)
PG_TEST_DATABASE = "cdp_test_generate"

NORMALISED = {
    "member_id": r"M\d{8}",
    "member_card": r"C88\d{8}",
    "email": r"[a-z0-9._+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}",
    "phone": r"\+861\d{10}",
    "anonymous_id": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    "device_id": r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}",
    "openid": r"o[A-Za-z0-9_-]{27}",
    "unionid": r"u[A-Za-z0-9_-]{27}",
}

# SQL that turns the messy raw phone spellings into E.164, to check truth against raw.
PHONE_TO_E164 = """
    '+86' || right(regexp_replace(coalesce({column}, ''), '[^0-9]', '', 'g'), 11)
"""


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return generate(PEOPLE, SEED)


@pytest.fixture(scope="module")
def db(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the generated tables registered by name."""
    connection = duckdb.connect()
    for name, table in tables.items():
        connection.register(name, table)
    yield connection
    connection.close()


def rows(connection: duckdb.DuckDBPyConnection, query: str) -> list[tuple]:
    return connection.execute(query).fetchall()


def scalar(connection: duckdb.DuckDBPyConnection, query: str):
    return rows(connection, query)[0][0]


# --- determinism and contract ---------------------------------------------------------------


def test_same_seed_gives_identical_tables(tables: dict[str, pa.Table]) -> None:
    again = generate(PEOPLE, SEED)
    assert list(again) == list(tables)
    for name, table in tables.items():
        assert again[name].equals(table), name


def test_different_seed_gives_different_data(tables: dict[str, pa.Table]) -> None:
    other = generate(PEOPLE, SEED + 1)
    for name in ("crm_members", "web_events", "person_identifiers"):
        assert not other[name].equals(tables[name]), name


def test_tables_and_columns_follow_the_contract(tables: dict[str, pa.Table]) -> None:
    assert set(tables) == set(RAW_COLUMNS) | set(TRUTH_COLUMNS)
    for name, columns in RAW_COLUMNS.items():
        schema = tables[name].schema
        assert schema.names == [*columns, "_loaded_at"], name
        assert all(
            pa.types.is_string(field.type)
            for field in schema
            if field.name != "_loaded_at"
        )
        assert pa.types.is_timestamp(schema.field("_loaded_at").type), name
        assert tables[name].num_rows > 0, name
    truth = tables["person_identifiers"]
    assert truth.schema.names == ["person_id", "identifier_type", "identifier_value"]


def test_volumes_are_realistic(tables: dict[str, pa.Table]) -> None:
    events = tables["web_events"].num_rows + tables["app_events"].num_rows
    assert 6 * PEOPLE < events < 15 * PEOPLE
    items_per_order = (
        tables["ecom_order_items"].num_rows / tables["ecom_orders"].num_rows
    )
    assert 1.3 < items_per_order < 2.5
    assert tables["deletion_requests"].num_rows >= 2


def test_timestamps_span_two_fixed_years(db) -> None:
    days = rows(db, "select distinct left(trim(event_ts), 4) from web_events")
    assert {"2024", "2025"} <= {day[0] for day in days}
    assert scalar(db, "select count(distinct _loaded_at) from web_events") == 1


def test_bad_argument_is_reported() -> None:
    with pytest.raises(ValueError, match="people"):
        next(iter_tables(0, SEED))
    with pytest.raises(ValueError, match="batch"):
        next(iter_tables(10, SEED, batch=-1))


# --- the mess ------------------------------------------------------------------------------


def test_values_are_spelled_many_ways(db) -> None:
    phone_shapes = rows(
        db,
        "select distinct regexp_replace(phone, '[0-9]', '9', 'g') from crm_members"
        " where trim(coalesce(phone, '')) <> ''",
    )
    assert len(phone_shapes) >= 5
    timestamp_shapes = rows(
        db,
        "select distinct regexp_replace(order_ts, '[0-9]', '9', 'g') from ecom_orders",
    )
    assert len(timestamp_shapes) >= 4
    assert (
        scalar(db, "select count(*) from ecom_orders where total_amount like '%,%'") > 0
    )
    assert (
        scalar(db, "select count(*) from ecom_orders where total_amount like '¥%'") > 0
    )
    assert scalar(db, "select count(*) from crm_members where birthday like '%/%'") > 0
    assert (
        scalar(db, "select count(*) from crm_members where email <> lower(trim(email))")
        > 0
    )
    assert (
        scalar(
            db,
            "select count(*) from wechat_followers where nickname similar to '.*[🌸😊🐱✨🍀🔥🌙💕].*'",
        )
        > 0
    )


def test_blanks_and_exact_duplicates_exist(db) -> None:
    blank_user_ids = rows(
        db,
        "select distinct user_id from web_events where trim(coalesce(user_id, '')) = ''",
    )
    assert {value for (value,) in blank_user_ids} >= {"", None}
    duplicated = scalar(
        db,
        "select count(*) from (select *, count(*) over (partition by event_id, event_ts,"
        " anonymous_id, properties) as copies from web_events) where copies > 1",
    )
    assert duplicated > 0


def test_members_have_several_versions(db) -> None:
    versions = scalar(
        db,
        "select max(versions) from (select count(distinct updated_at) as versions"
        " from crm_members group by trim(member_id))",
    )
    assert versions >= 2


def test_bad_rows_are_present(db) -> None:
    unparsable = """
        select count(*) from {table} where trim(coalesce({column}, '')) <> '' and try_strptime(
            replace(replace(left(trim({column}), 19), '/', '-'), 'T', ' '), '%Y-%m-%d %H:%M:%S'
        ) is null
    """
    for table, column in (
        ("ecom_orders", "order_ts"),
        ("web_events", "event_ts"),
        ("pos_transactions", "txn_ts"),
        ("crm_members", "updated_at"),
    ):
        assert scalar(db, unparsable.format(table=table, column=column)) > 0, table
    for table, key in (
        ("ecom_orders", "order_id"),
        ("web_events", "event_id"),
        ("crm_members", "member_id"),
        ("pos_transactions", "txn_id"),
    ):
        assert scalar(
            db, f"select count(*) from {table} where trim(coalesce({key}, '')) = ''"
        )
    assert scalar(
        db,
        "select count(*) from ecom_orders where regexp_matches(total_amount, '^ *-')",
    )
    assert scalar(
        db,
        "select count(*) from ecom_orders where not regexp_matches(total_amount, '[0-9]')",
    )
    invalid_emails = """
        select count(*) from {table} where trim(coalesce({column}, '')) <> ''
        and not regexp_matches(trim({column}), '^[^@ ]+@[^@ ]+\\.[^@ ]+$')
    """
    for table, column in (("ecom_orders", "buyer_email"), ("crm_members", "email")):
        assert scalar(db, invalid_emails.format(table=table, column=column)) > 0, table
    short_phones = (
        "select count(*) from pos_transactions where trim(coalesce(phone, '')) <> ''"
        " and length(regexp_replace(phone, '[^0-9]', '', 'g')) < 11"
    )
    assert scalar(db, short_phones) > 0


# --- identity traps and truth --------------------------------------------------------------


def test_family_phone_is_shared_by_distinct_members(db) -> None:
    shared = rows(
        db,
        """
        with phones as (
            select person_id, identifier_value as phone from person_identifiers
            where identifier_type = 'phone' and identifier_value <> '+8613800000000'
        ),
        members as (
            select person_id, identifier_value as member_id from person_identifiers
            where identifier_type = 'member_id'
        )
        select phone, count(distinct member_id) from phones
        inner join members using (person_id)
        group by phone having count(distinct member_id) >= 2
        """,
    )
    assert len(shared) >= 2
    assert all(2 <= members <= 3 for _, members in shared)


def test_shared_ipad_is_used_by_many_members(db) -> None:
    busiest = scalar(
        db,
        "select max(members) from (select device_id, count(distinct trim(user_id)) as members"
        " from app_events where trim(coalesce(user_id, '')) <> '' group by device_id)",
    )
    assert busiest >= 5
    truth_sharing = scalar(
        db,
        "select max(people) from (select count(distinct person_id) as people"
        " from person_identifiers where identifier_type = 'device_id' group by identifier_value)",
    )
    assert truth_sharing >= 5


def test_junk_emails_are_typed_by_many_buyers(db) -> None:
    junk = ", ".join(f"'{value}'" for value in JUNK_EMAILS)
    orders = scalar(
        db,
        f"select count(*) from ecom_orders where lower(trim(buyer_email)) in ({junk})",
    )
    people = scalar(
        db,
        "select count(distinct person_id) from person_identifiers"
        f" where identifier_type = 'email' and identifier_value in ({junk})",
    )
    assert orders >= 4
    assert people >= 3


def test_guest_identifiers_form_chains(db) -> None:
    """Some guests use several emails and several phones (order1 e1+p1, order2 e2+p1, ...)."""
    chained = scalar(
        db,
        """
        select count(*) from (
            select person_id from person_identifiers
            group by person_id
            having count(*) filter (where identifier_type = 'email') >= 2
               and count(*) filter (where identifier_type = 'phone') >= 2
               and count(*) filter (where identifier_type = 'member_id') = 0
        )
        """,
    )
    assert chained >= 1


def test_cookie_chains_log_in_on_every_cookie(db) -> None:
    most_cookies = scalar(
        db,
        "select max(cookies) from (select count(*) as cookies from person_identifiers"
        " where identifier_type = 'anonymous_id' group by person_id)",
    )
    assert most_cookies >= 6


def test_truth_values_are_normalised(tables: dict[str, pa.Table]) -> None:
    truth = tables["person_identifiers"].to_pylist()
    assert {row["identifier_type"] for row in truth} == set(IDENTIFIER_TYPES)
    for row in truth:
        pattern = NORMALISED[row["identifier_type"]]
        assert re.fullmatch(pattern, row["identifier_value"]), row
    values = {row["identifier_value"] for row in truth}
    assert not values & {*BAD_EMAILS, *BAD_PHONES}
    assert len(truth) == len({tuple(row.values()) for row in truth})


def test_truth_identifiers_all_occur_in_raw(db) -> None:
    """Every truth identifier can be found in the raw tables once normalised."""
    phone = PHONE_TO_E164.format
    missing = rows(
        db,
        f"""
        with raw_values as (
            select 'email' as kind, lower(trim(buyer_email)) as value from ecom_orders
            union all select 'email', lower(trim(email)) from crm_members
            union all select 'email', lower(trim(email)) from service_tickets
            union all select 'phone', {phone(column="buyer_phone")} from ecom_orders
            union all select 'phone', {phone(column="phone")} from crm_members
            union all select 'phone', {phone(column="phone")} from pos_transactions
            union all select 'phone', {phone(column="phone")} from wechat_followers
            union all select 'phone', {phone(column="phone")} from service_tickets
            union all select 'member_id', trim(member_id) from crm_members
            union all select 'member_id', trim(member_id) from ecom_orders
            union all select 'member_id', trim(member_id) from service_tickets
            union all select 'member_id', trim(user_id) from web_events
            union all select 'member_id', trim(user_id) from app_events
            union all select 'member_card', trim(member_card_no) from crm_members
            union all select 'member_card', trim(member_card_no) from pos_transactions
            union all select 'anonymous_id', trim(anonymous_id) from web_events
            union all select 'device_id', trim(device_id) from app_events
            union all select 'openid', trim(openid) from wechat_followers
            union all select 'unionid', trim(unionid) from wechat_followers
        )
        select identifier_type, identifier_value from person_identifiers
        except
        select kind, value from raw_values
        """,
    )
    assert missing == []


def test_deletion_requests_name_known_identifiers(db) -> None:
    unknown = scalar(
        db,
        """
        select count(*) from deletion_requests as request
        where not exists (
            select 1 from person_identifiers as truth
            where truth.identifier_type = request.identifier_type
              and truth.identifier_value in (
                  trim(request.identifier_value),
                  lower(trim(request.identifier_value)),
                  '+86' || right(regexp_replace(request.identifier_value, '[^0-9]', '', 'g'), 11)
              )
        )
        """,
    )
    assert unknown == 0


# --- batches and loading -------------------------------------------------------------------


def _keys(table: pa.Table, columns: tuple[str, ...]) -> set[tuple]:
    values = [
        pc.utf8_trim_whitespace(table[column].fill_null("")) for column in columns
    ]
    keys = set(zip(*(value.to_pylist() for value in values), strict=True))
    return {key for key in keys if key[0]}


def test_append_batches_do_not_collide(
    tmp_path: Path, tables: dict[str, pa.Table]
) -> None:
    path = tmp_path / "generated.duckdb"
    loaded = load_duckdb(tables, path)
    assert loaded == {name: table.num_rows for name, table in tables.items()}
    batch_1 = generate(PEOPLE, SEED, batch=1)
    batch_2 = generate(PEOPLE, SEED, batch=2)
    for name in (
        "web_events",
        "app_events",
        "ecom_orders",
        "pos_transactions",
        "consent_events",
    ):
        key = RAW_KEYS[name]
        assert batch_1[name].num_rows > 0, name
        assert not _keys(tables[name], key) & _keys(batch_1[name], key), name
        assert not _keys(batch_1[name], key) & _keys(batch_2[name], key), name
    load_duckdb(batch_1, path, mode="append")
    load_duckdb(batch_2, path, mode="append")
    with duckdb.connect(str(path)) as connection:
        total = scalar(connection, "select count(*) from raw.web_events")
        assert total == sum(
            b["web_events"].num_rows for b in (tables, batch_1, batch_2)
        )
        assert (
            scalar(connection, "select count(distinct _loaded_at) from raw.web_events")
            == 3
        )
        truth = rows(
            connection,
            "select count(*), count(distinct (person_id, identifier_type, identifier_value))"
            " from truth.person_identifiers",
        )[0]
        assert truth[0] == truth[1]


def test_returning_people_reuse_their_identifiers(tables: dict[str, pa.Table]) -> None:
    delta = generate(PEOPLE, SEED, batch=1)["person_identifiers"]

    def pairs(table: pa.Table) -> set[tuple[str, str]]:
        return set(
            zip(
                table["person_id"].to_pylist(),
                table["identifier_value"].to_pylist(),
                strict=True,
            )
        )

    assert pairs(delta) & pairs(tables["person_identifiers"])
    new_people = set(delta["person_id"].to_pylist()) - set(
        tables["person_identifiers"]["person_id"].to_pylist()
    )
    assert all(int(person[1:]) > PEOPLE for person in new_people)


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
def pg_conninfo() -> str:
    settings = PostgresSettings.from_env()
    admin = settings.conninfo("postgres", connect_timeout=3)
    try:
        psycopg.connect(admin).close()
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL not reachable at {settings.host}:{settings.port}: {error}"
        if os.environ.get("CDP_REQUIRE_SERVICES") == "1":
            pytest.fail(f"CDP_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    drop = sql.SQL("drop database if exists {} with (force)").format(
        sql.Identifier(PG_TEST_DATABASE)
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(drop)
    yield settings.conninfo(PG_TEST_DATABASE)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(drop)


@pytest.mark.pg
def test_postgres_load_replace_and_append(pg_conninfo: str) -> None:
    small = generate(150, SEED)
    assert ensure_database(pg_conninfo) is True
    assert ensure_database(pg_conninfo) is False
    load_postgres(small, pg_conninfo)
    load_postgres(small, pg_conninfo)  # replace is idempotent
    load_postgres(generate(150, SEED, batch=1), pg_conninfo, mode="append")
    with psycopg.connect(pg_conninfo) as connection:
        counts = connection.execute(
            "select count(*), count(*) filter (where user_id = ''),"
            " count(*) filter (where user_id is null), count(distinct _loaded_at)"
            " from raw.web_events"
        ).fetchall()[0]
        truth = connection.execute(
            "select count(*), count(distinct (person_id, identifier_type, identifier_value))"
            " from truth.person_identifiers"
        ).fetchall()[0]
        loaded_at_type = connection.execute(
            "select data_type from information_schema.columns where table_schema = 'raw'"
            " and table_name = 'crm_members' and column_name = '_loaded_at'"
        ).fetchall()[0][0]
        nickname = connection.execute(
            "select count(*) from raw.wechat_followers where nickname ~ '[🌸😊🐱✨🍀🔥🌙💕]'"
        ).fetchall()[0][0]
    assert counts[0] > small["web_events"].num_rows
    assert counts[1] > 0 and counts[2] > 0  # '' and NULL both survive COPY
    assert counts[3] == 2
    assert truth[0] == truth[1]
    assert loaded_at_type == "timestamp with time zone"
    assert nickname > 0


# --- CLI and settings ----------------------------------------------------------------------


def test_cdp_generate_loads_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "cli.duckdb"
    env = {"CDP_DUCKDB_PATH": str(path), "DBT_TARGET": "dev"}
    runner = CliRunner()
    first = runner.invoke(main, ["generate", "--people", "120", "--seed", "3"], env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(
        main,
        ["generate", "--people", "120", "--seed", "3", "--append-batch", "1"],
        env=env,
    )
    assert second.exit_code == 0, second.output
    with duckdb.connect(str(path)) as connection:
        loads = scalar(
            connection, "select count(distinct _loaded_at) from raw.web_events"
        )
        schemas = rows(
            connection, "select distinct table_schema from information_schema.tables"
        )
    assert loads == 2
    assert {"raw", "truth"} <= {schema for (schema,) in schemas}


def test_warehouse_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = find_project_dir()
    assert (project / "dbt_project.yml").is_file()
    monkeypatch.delenv("CDP_DUCKDB_PATH", raising=False)
    assert warehouse_for("dev").duckdb_path == project / ".cdp" / "cdp.duckdb"
    monkeypatch.setenv("CDP_DUCKDB_PATH", "elsewhere/x.duckdb")
    assert warehouse_for("dev").duckdb_path == project / "elsewhere" / "x.duckdb"
    monkeypatch.setenv("CDP_PG_DATABASE", "other")
    warehouse = warehouse_for("pg")
    assert (
        warehouse.engine == "postgres"
        and "dbname=other" in warehouse.postgres.conninfo()
    )
    monkeypatch.setenv("CDP_PROJECT_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="dbt_project.yml"):
        find_project_dir()
    with pytest.raises(ValueError, match="unknown target"):
        warehouse_for("prod", project_dir=project)
