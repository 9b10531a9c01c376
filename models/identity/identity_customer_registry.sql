{#
    The persistent id registry: which customer_id each identifier has. Never rebuilt
    from scratch (full_refresh: false), so ids survive `dbt build --full-refresh`.
    Grain: one row per identifier ever assigned. Each run applies identity_id_proposals,
    and only once the identity release gate has passed: a blocked run changes nothing.
#}
{{ config(
    materialized='incremental',
    unique_key='node_id',
    incremental_strategy=cdp.upsert_strategy(),
    partition_by=cdp.upsert_partition_by(['identifier_type']),
    full_refresh=false,
    on_schema_change='fail',
) }}
-- depends_on: {{ ref('identity_release_gate') }}

with

proposals as (
    select
        node_id,
        identifier_type,
        identifier_value,
        customer_id,
        customer_created_at,
        previous_customer_id,
        is_active,
        changed_at,
        change_reason,
        is_previous_id_retired
    from {{ ref('identity_id_proposals') }}
)

{{ cdp.upsert_rows('proposals') }}
