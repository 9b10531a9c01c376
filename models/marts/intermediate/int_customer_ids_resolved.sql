{#
    Every customer id ever issued, mapped to the id that holds its identifiers today.
    Grain: one row per customer id. Active ids map to themselves; a retired id follows its
    latest merge (customer_id_merges, change_type 'merge'), hop by hop, up to
    var marts_merge_chain_depth hops. The side of a split that kept the old id maps to
    itself. current_customer_id is null when a chain ends on an id that is not active.
#}
{{ config(pre_hook=[
    "{{ cdp.refresh_statistics_of([ref('customer_identifiers')]) }}",
]) }}
{%- set depth = var('marts_merge_chain_depth', 8) %}

with

active_customers as (
    select distinct customer_id from {{ ref('customer_identifiers') }}
),

merge_history as (
    select
        old_customer_id,
        new_customer_id,
        merged_at,
        identifiers_moved
    from {{ ref('customer_id_merges') }}
    where change_type = 'merge'
),

latest_merges as (
    select
        old_customer_id,
        new_customer_id
    from (
        select
            old_customer_id,
            new_customer_id,
            row_number() over (
                partition by old_customer_id
                order by merged_at desc, identifiers_moved desc, new_customer_id asc
            ) as merge_rank
        from merge_history
    ) as merges_ranked
    where merge_rank = 1
),

retired_ids as (
    select latest_merges.old_customer_id as customer_id
    from latest_merges
    left outer join active_customers
        on latest_merges.old_customer_id = active_customers.customer_id
    where active_customers.customer_id is null
),

{# Only ids some merge points to can be a successor: the hops look them up in this short
    list, not in every active id. #}
merge_targets as (
    select distinct new_customer_id from latest_merges
),

merge_targets_active as (
    select active_customers.customer_id
    from active_customers
    inner join merge_targets on active_customers.customer_id = merge_targets.new_customer_id
),

hop_0 as (
    select
        retired_ids.customer_id,
        latest_merges.new_customer_id as successor_id
    from retired_ids
    inner join latest_merges on retired_ids.customer_id = latest_merges.old_customer_id
),
{%- for hop in range(1, depth) %}

    hop_{{ hop }} as (
        select
            hop_{{ hop - 1 }}.customer_id,
            coalesce(
                latest_merges.new_customer_id, hop_{{ hop - 1 }}.successor_id
            ) as successor_id
        from hop_{{ hop - 1 }}
        left outer join merge_targets_active
            on hop_{{ hop - 1 }}.successor_id = merge_targets_active.customer_id
        left outer join latest_merges
            on merge_targets_active.customer_id is null
                and hop_{{ hop - 1 }}.successor_id = latest_merges.old_customer_id
    ),
{%- endfor %}

retired_ids_mapped as (
    select
        hop_{{ depth - 1 }}.customer_id,
        merge_targets_active.customer_id as current_customer_id,
        false as is_active
    from hop_{{ depth - 1 }}
    left outer join merge_targets_active
        on hop_{{ depth - 1 }}.successor_id = merge_targets_active.customer_id
),

ids_mapped as (
    select
        customer_id,
        customer_id as current_customer_id,
        true as is_active
    from active_customers
    union all
    select * from retired_ids_mapped
)

select * from ids_mapped
