{#
    This run's proposed clustering compared with the registry: a single row that the
    release gate tests read (identifiers whose id would change, share, merges, splits,
    largest cluster). The registry applies the proposal only when these tests pass, so a
    failing gate changes nothing and stops customer_identifiers, marts and syncs.
#}
{%- set run_at = cdp.run_started_timestamp() %}

with

proposals as (
    select
        customer_id,
        previous_customer_id,
        change_reason,
        is_previous_id_retired
    from {{ ref('identity_id_proposals') }}
),

assignments as (
    select cluster_id from {{ ref('identity_node_assignments') }}
),

cluster_sizes as (
    select
        cluster_id,
        count(*) as identifiers
    from assignments
    group by cluster_id
),

id_moves as (
    select distinct
        previous_customer_id,
        customer_id,
        is_previous_id_retired
    from proposals
    where change_reason = 'customer_changed'
),

gate_measured as (
    select
        {{ run_at }} as run_started_at,
        (select count(*) from cluster_sizes) as customers,
        (select count(*) from assignments) as active_identifiers,
        (
            select count(*)
            from proposals
            where change_reason = 'customer_changed'
        ) as identifiers_with_changed_id,
        (
            select count(*)
            from proposals
            where change_reason = 'new_identifier'
        ) as new_identifiers,
        (
            select count(*)
            from proposals
            where change_reason = 'unassigned'
        ) as unassigned_identifiers,
        {#- quoted (as each engine quotes): sqlfluff's postgres and duckdb dialects take
            `merges` for a keyword #}
        (
            select count(distinct previous_customer_id)
            from id_moves
            where is_previous_id_retired
        ) as {{ adapter.quote('merges') }},
        (
            select count(distinct previous_customer_id)
            from id_moves
            where not is_previous_id_retired
        ) as splits,
        (select coalesce(max(identifiers), 0) from cluster_sizes) as largest_cluster_identifiers
),

shares_computed as (
    select
        *,
        (
            cast(identifiers_with_changed_id as {{ dbt.type_float() }})
            / nullif(active_identifiers - new_identifiers, 0)
        ) as changed_id_share
    from gate_measured
)

select * from shares_computed
