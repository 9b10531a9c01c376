{#
    This run's clustering compared with the previous one: a single row that the release
    gate tests read (identifiers whose id changed, share changed, merges, splits, largest
    cluster). A failing gate test stops the syncs downstream.
#}
{%- set run_at = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as "
    ~ dbt.type_timestamp() ~ ")" %}

with

registry as (
    select customer_id, previous_customer_id, is_active, changed_at, change_reason
    from {{ ref('identity_customer_registry') }}
),

merges as (
    select change_type from {{ ref('customer_id_merges') }} where merged_at = {{ run_at }}
),

cluster_sizes as (
    select customer_id, count(*) as identifiers
    from registry
    where is_active
    group by customer_id
),

gate_measured as (
    select
        {{ run_at }} as run_started_at,
        (select count(*) from cluster_sizes) as customers,
        (select count(*) from registry where is_active) as active_identifiers,
        (
            select count(*) from registry
            where changed_at = {{ run_at }} and change_reason = 'customer_changed'
        ) as identifiers_with_changed_id,
        (
            select count(*) from registry
            where changed_at = {{ run_at }} and change_reason = 'new_identifier'
        ) as new_identifiers,
        (
            select count(*) from registry
            where changed_at = {{ run_at }} and change_reason = 'unassigned'
        ) as unassigned_identifiers,
        (select count(*) from merges where change_type = 'merge') as merges,
        (select count(*) from merges where change_type = 'split') as splits,
        (select coalesce(max(identifiers), 0) from cluster_sizes) as largest_cluster_identifiers
),

shares_computed as (
    select
        *,
        cast(identifiers_with_changed_id as {{ dbt.type_float() }})
            / nullif(active_identifiers - new_identifiers, 0) as changed_id_share
    from gate_measured
)

select * from shares_computed
