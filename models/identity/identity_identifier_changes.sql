{#
    When each identifier's customer last changed, for the models that follow identity
    incrementally (identity_source_records). Grain: one row per identifier that was ever
    in customer_identifiers; customer_id is null once it no longer is (excluded, or its
    records gone). A run compares customer_identifiers with the rows held (one hash join)
    and writes only the identifiers whose customer or bridge flag differs, stamped with
    the run's start (changed_at). A full refresh stamps every identifier.
    On Spark (parquet tables cannot delete rows) a table: every identifier every run.
#}
{%- set incremental = target.type != 'spark' %}
{%- set changed_at = cdp.run_started_timestamp() %}

{{ config(
    materialized='incremental' if incremental else 'table',
    incremental_strategy='delete+insert',
    unique_key='node_id',
    on_schema_change='fail',
    indexes=[
        {'columns': ['node_id'], 'unique': true},
        {'columns': ['changed_at']},
    ] if target.type == 'postgres' else [],
) }}

with

assigned as (
    select
        node_id,
        customer_id,
        is_bridge_excluded
    from {{ ref('customer_identifiers') }}
),
{%- if is_incremental() %}

    previous as (
        select
            node_id,
            customer_id,
            is_bridge_excluded
        from {{ this }}
    ),

    changes as (
        select
            coalesce(assigned.node_id, previous.node_id) as node_id,
            assigned.customer_id,
            assigned.is_bridge_excluded,
            {{ changed_at }} as changed_at
        from assigned
        full outer join previous on assigned.node_id = previous.node_id
        where
            coalesce(assigned.customer_id, '') <> coalesce(previous.customer_id, '')
            or coalesce(assigned.is_bridge_excluded, false)
            <> coalesce(previous.is_bridge_excluded, false)
    )
{%- else %}

changes as (
    select
        node_id,
        customer_id,
        is_bridge_excluded,
        {{ changed_at }} as changed_at
    from assigned
)
{%- endif %}

select * from changes
