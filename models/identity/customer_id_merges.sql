{#
    History of customer ids that changed: a merge retires an id into an older one; a split
    moves part of a customer's identifiers to a new id. Append-only and never rebuilt
    (full_refresh: false). Grain: one row per old id, new id and run.
#}
-- depends_on: {{ ref('privacy_tombstones') }}  (built from the purged registry)
{{ config(materialized='incremental', full_refresh=false, on_schema_change='fail') }}

{%- set run_at = cdp.run_started_timestamp() %}

with

registry as (
    select
        customer_id,
        previous_customer_id,
        is_active,
        changed_at,
        is_previous_id_retired
    from {{ ref('identity_customer_registry') }}
),

moved_this_run as (
    select
        previous_customer_id as old_customer_id,
        customer_id as new_customer_id,
        max(case when is_previous_id_retired then 1 else 0 end) as retired_flag,
        count(*) as identifiers_moved
    from registry
    where changed_at = {{ run_at }}
        and is_active
        and previous_customer_id is not null
        and previous_customer_id <> customer_id
    group by previous_customer_id, customer_id
),

changes_explained as (
    select
        moved_this_run.old_customer_id,
        moved_this_run.new_customer_id,
        {{ run_at }} as merged_at,
        case when moved_this_run.retired_flag = 1 then 'merge' else 'split' end as change_type,
        moved_this_run.identifiers_moved
    from moved_this_run
)

select * from changes_explained
