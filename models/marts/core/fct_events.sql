{#
    The unified customer event stream. Grain: one row per event (macros/marts/event_stream.sql
    says what each source contributes). Incremental, replacing rows by event_id
    (cdp.upsert_strategy: delete+insert on DuckDB and PostgreSQL; on Spark, parquet
    partitions by source rewritten with insert_overwrite).

    Each incremental run writes three sets of rows:
    1. Late data: per source, every event at or after (that source's latest occurred_at
       already loaded) minus var marts_events_lookback_days, recomputed from the sources;
       each source branch filters its own rows first, so the window stays small.
       Per source, because sources run on different clocks: sync events arrive in real
       time while a historical load may still be filling in last year's web events.
    2. Older events not loaded yet, however old (rows that arrived after their window had
       passed): the same branches also keep, for the staged sources (web, app, WeChat,
       service tickets), every row staged (staged_at) after this model last ran
       (max processed_at), a filter on the source's own rows; for orders, consent and
       sync events (and every source on Spark, whose base tables are rebuilt whole), the
       events whose event_id is not in this table (an anti-join).
       A staged row rewritten with new content (a newer version of its key) is staged
       again, so it is re-read however old.
    3. Identity changes: older rows whose customer_id is retired (merged away) or belongs
       to a customer whose identifiers changed in identity_customer_registry since this
       model last ran (merges and splits alike, both the old and the new id), and older
       rows without a customer (an identifier seen first on a consent event and only later
       on a record that gives it a customer). They are re-resolved the way event_stream
       resolves them, from the small lookups (identity_source_records by record; consent
       by consent event; sync events by the id map), without re-reading event sources
       outside the window.
    A full refresh gives the same rows (processed_at aside): tests/python/test_marts.py
    appends late rows and compares with `--full-refresh`; the data test
    marts__fct_events_counts_match_sources compares event counts per source on every
    build, and marts__fct_events_matches_full_refresh compares every row with
    int_events_unioned (the same macro without a window) when var
    marts_events_full_refresh_check is true (CI; production on a schedule). What an
    incremental run cannot see, and a full refresh fixes: an order, consent or sync event
    changed outside the lookback (same key, new content), rows deleted from a source, and
    a record moving from one customer to another without any id change (an identifier
    becoming excluded, for instance). Staged sources run in another dbt invocation
    concurrently with this model (started before it, committed after it read them) are
    only seen through the lookback.
#}
-- depends_on: {{ ref('identity_customer_registry') }}
-- depends_on: {{ ref('int_customer_ids_resolved') }}
-- depends_on: {{ ref('identity_source_records') }}
-- depends_on: {{ ref('int_consent_events_resolved') }}
-- depends_on: {{ ref('fct_sync_events') }}
{%- set lookback_days = var('marts_events_lookback_days', 3) %}
{%- set sources = [
    'web_events', 'app_events', 'ecom_orders', 'pos_transactions', 'wechat_followers',
    'service_tickets', 'consent_events', 'sync_events',
] %}
{%- set processed_at = cdp.run_started_timestamp() %}

{{ config(
    materialized='incremental',
    pre_hook=[
        "{{ cdp.refresh_statistics_of([ref('identity_source_records')]) }}",
        "{{ cdp.refresh_statistics_of([ref('identity_customer_registry')]) }}",
    ],
    incremental_strategy=cdp.upsert_strategy(),
    unique_key='event_id',
    partition_by=cdp.upsert_partition_by(['source_name']),
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['event_id'], 'unique': true},
        {'columns': ['source_name', 'occurred_at']},
        {'columns': ['customer_id']},
        {'columns': ['processed_at']},
    ] if target.type == 'postgres' else [],
) }}

with
{%- if is_incremental() %}

    last_run as (
        select
            coalesce(
                max(processed_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})
            ) as processed_at
        from {{ this }}
    ),

    source_cutoffs as (
        {%- for source_name in sources %}
            select
                '{{ source_name }}' as source_name,
                coalesce(
                    (
                        select
                            {{ dbt.dateadd('day', -lookback_days, 'max(loaded.occurred_at)') }}
                        from {{ this }} as loaded
                        where loaded.source_name = '{{ source_name }}'
                    ),
                    cast('1900-01-01' as {{ dbt.type_timestamp() }})
                ) as cutoff_at
            {%- if not loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
    ),
{%- endif %}

events as (
    {%- set since = {} %}
    {%- set staged_since = none %}
    {%- if is_incremental() %}
        {#- Spark rebuilds its base tables whole (no incremental staging there): every row is
            stamped by every run, so the anti-join is what finds the rows not loaded yet #}
        {%- if target.type != 'spark' %}
            {%- set staged_since = "(select last_run.processed_at from last_run)" %}
        {%- endif %}
        {%- for source_name in sources %}
            {%- do since.update({source_name: "(select cutoff_at from source_cutoffs"
                ~ " where source_name = '" ~ source_name ~ "')"}) %}
        {%- endfor %}
    {%- endif %}
    {{ cdp.event_stream(since=since, loaded=this, staged_since=staged_since) }}
),
{%- if is_incremental() %}

    registry as (
        select
            customer_id,
            previous_customer_id,
            changed_at
        from {{ ref('identity_customer_registry') }}
    ),

    retired_customer_ids as (
        select customer_id from {{ ref('int_customer_ids_resolved') }}
        where not is_active
    ),

    source_records as (
        select
            source_name || ':' || source_key as record_key,
            customer_id
        from {{ ref('identity_source_records') }}
    ),

    consent_events as (
        select
            consent_event_id,
            customer_id
        from {{ ref('int_consent_events_resolved') }}
    ),

    sync_events as (
        select
            event_id,
            customer_id
        from {{ ref('fct_sync_events') }}
    ),

    changed_customer_ids as (
        select registry.customer_id
        from registry
        cross join last_run
        where registry.changed_at > last_run.processed_at
        union
        select registry.previous_customer_id as customer_id
        from registry
        cross join last_run
        where registry.changed_at > last_run.processed_at
            and registry.previous_customer_id is not null
        union
        select customer_id from retired_customer_ids
    ),

    rows_of_changed_or_no_customer as (
        select
            loaded_rows.event_id,
            loaded_rows.customer_id,
            loaded_rows.event_type,
            loaded_rows.channel,
            loaded_rows.source_name,
            loaded_rows.source_key,
            loaded_rows.occurred_at,
            loaded_rows.revenue,
            loaded_rows.event_context
        from {{ this }} as loaded_rows
        inner join
            changed_customer_ids
            on loaded_rows.customer_id = changed_customer_ids.customer_id
        union all
        select
            loaded_rows.event_id,
            loaded_rows.customer_id,
            loaded_rows.event_type,
            loaded_rows.channel,
            loaded_rows.source_name,
            loaded_rows.source_key,
            loaded_rows.occurred_at,
            loaded_rows.revenue,
            loaded_rows.event_context
        from {{ this }} as loaded_rows
        where loaded_rows.customer_id is null
    ),

    rows_to_re_resolve as (
        select * from rows_of_changed_or_no_customer
        where not exists (
                select 1 from events
                where events.event_id = rows_of_changed_or_no_customer.event_id
            )
    ),

    rows_re_resolved as (
        select
            rows_to_re_resolve.event_id,
            case rows_to_re_resolve.source_name
                when 'consent_events' then consent_events.customer_id
                when 'sync_events' then sync_events.customer_id
                else source_records.customer_id
            end as customer_id,
            rows_to_re_resolve.event_type,
            rows_to_re_resolve.channel,
            rows_to_re_resolve.source_name,
            rows_to_re_resolve.source_key,
            rows_to_re_resolve.occurred_at,
            rows_to_re_resolve.revenue,
            rows_to_re_resolve.event_context
        from rows_to_re_resolve
        left outer join source_records
            on rows_to_re_resolve.source_name || ':' || rows_to_re_resolve.source_key
                = source_records.record_key
        left outer join consent_events
            on rows_to_re_resolve.source_name = 'consent_events'
                and rows_to_re_resolve.source_key = consent_events.consent_event_id
        left outer join sync_events
            on rows_to_re_resolve.source_name = 'sync_events'
                and rows_to_re_resolve.source_key = sync_events.event_id
    ),
{%- endif %}

events_to_write as (
    select * from events
    {%- if is_incremental() %}
        union all
        select * from rows_re_resolved
    {%- endif %}
),

events_stamped as (
    select
        event_id,
        customer_id,
        event_type,
        channel,
        source_name,
        source_key,
        occurred_at,
        cast(occurred_at as date) as event_date,
        revenue,
        event_context,
        {{ processed_at }} as processed_at
    from events_to_write
)

{{ cdp.upsert_rows('events_stamped') }}
