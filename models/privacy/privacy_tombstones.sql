{#
    What is left of the people who asked to be forgotten: salted hashes only. Grain: one
    row per deletion request and identifier hash: the requested identifier, every other
    identifier of the customer it resolves to in the id registry, and that customer's ids
    (identifier_type 'customer_id', current and retired). Append-only, never rebuilt
    (full_refresh: false): staging reads it by name to erase the person's rows when they
    arrive again, and the sync engine to delete them at destinations.

    The post-hook (purge_forgotten_people) removes the people forgotten in this run from
    every table built before this one or kept across runs; everything after it in the DAG
    is built from purged inputs.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='fail',
    post_hook=["{{ cdp.purge_forgotten_people() }}"],
) }}

{%- set completed_at = cdp.run_started_timestamp() %}

with

requests as (
    select
        request_id,
        identifier_hash,
        requested_at
    from {{ ref('stg_privacy__deletion_requests') }} as requests
    {%- if is_incremental() %}
        where not exists (
                select 1
                from {{ this }} as done
                where done.request_id = requests.request_id
                    and done.identifier_hash = requests.identifier_hash
            )
    {%- endif %}
),

forgotten as (
    {{ cdp.forgotten_people_identifiers(
        ref('identity_customer_registry'), 'select request_id from requests'
    ) }}
),

forgotten_hashed as (
    select distinct
        forgotten.request_id,
        forgotten.identifier_type,
        {{ cdp.identifier_hash('forgotten.identifier_type', 'forgotten.identifier_value') }}
            as identifier_hash
    from forgotten
),

requested_at_of_request as (
    select
        request_id,
        min(requested_at) as requested_at
    from requests
    group by request_id
),

tombstones as (
    select
        forgotten_hashed.request_id,
        forgotten_hashed.identifier_type,
        forgotten_hashed.identifier_hash,
        requested_at_of_request.requested_at,
        {{ completed_at }} as completed_at,
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as dbt_invocation_id
    from forgotten_hashed
    inner join requested_at_of_request
        on forgotten_hashed.request_id = requested_at_of_request.request_id
)

select * from tombstones
