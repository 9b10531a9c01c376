{#
    The customers a run is about to take records from: before identity_source_records
    resolves the touched records again, the customer each of them had; the privacy purge
    appends the customers of the records it deletes (rule log_customers_to). The marts
    kept by customer (macro customers_touched_since: int_customer_attributes_survived,
    dim_customers, customer_consent) recompute these customers too, since a record that
    moved away (a re-keyed or corrected record, a split) or lost every identifier changes
    the customer it left, even when none of its identifiers changed customer. Grain: one row per customer and run that took records from it, plus
    one row per run with customer_id null (the run's marker: a mart whose last run is
    older than the oldest marker kept cannot trust this log and recomputes every
    customer). Append-only; rows older than var identity_touch_retention_days (30) are
    deleted. identity_source_records is read by name: it is downstream of this model.
    On Spark (parquet tables cannot delete rows) a table of the run's rows.
#}
-- depends_on: {{ ref('identity_identifier_occurrences') }}
-- depends_on: {{ ref('identity_identifier_changes') }}
{%- set incremental = target.type != 'spark' %}
{%- set touched_at = cdp.run_started_timestamp() %}
{%- set records = adapter.get_relation(
    database=this.database, schema=this.schema, identifier='identity_source_records'
) if execute else none %}

{{ config(
    materialized='incremental' if incremental else 'table',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook=[
        "delete from {{ this }} where touched_at < {{ dbt.dateadd('day',
            -1 * var('identity_touch_retention_days', 30), cdp.run_started_timestamp()) }}",
    ] if incremental else [],
    indexes=[{'columns': ['touched_at']}] if target.type == 'postgres' else [],
) }}

with
{%- if records is not none %}

    last_run as (
        select
            coalesce(
                max(resolved_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})
            ) as resolved_at
        from {{ records }}
    ),

    touched_records as (
        {{ cdp.identity_records_touched_since('(select last_run.resolved_at from last_run)') }}
    ),

    customers_left as (
        select distinct records.customer_id
        from {{ records }} as records
        inner join touched_records
            on records.source_name = touched_records.source_name
                and records.source_key = touched_records.source_key
        where records.customer_id is not null
    ),
{%- endif %}

touches as (
    {%- if records is not none %}
        select
            customer_id,
            {{ touched_at }} as touched_at
        from customers_left
        union all
    {%- endif %}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        {{ touched_at }} as touched_at
)

select * from touches
