{#
    The identity step in figures, for the demo and the docs. Grain: one row per metric and
    identifier type ('all' when not by type).
#}
with

customer_identifiers as (
    select
        customer_id,
        identifier_type
    from {{ ref('customer_identifiers') }}
),

exclusions as (
    select
        identifier_type,
        exclusion_reason
    from {{ ref('identity_exclusions') }}
),

bridges as (
    select identifier_type from {{ ref('identity_bridge_exclusions') }}
),

cluster_sizes as (
    select
        customer_id,
        count(*) as identifiers
    from customer_identifiers
    group by customer_id
),

metrics as (
    select
        'customers' as metric,
        'all' as identifier_type,
        count(*) as metric_value
    from cluster_sizes
    union all
    select
        'largest_cluster_identifiers' as metric,
        'all' as identifier_type,
        coalesce(max(identifiers), 0) as metric_value
    from cluster_sizes
    union all
    select
        'customers_with_2_plus_identifiers' as metric,
        'all' as identifier_type,
        count(*) as metric_value
    from cluster_sizes
    where identifiers >= 2
    union all
    select
        'assigned_identifiers' as metric,
        identifier_type,
        count(*) as metric_value
    from customer_identifiers
    group by identifier_type
    union all
    select
        'excluded_' || exclusion_reason as metric,
        identifier_type,
        count(*) as metric_value
    from exclusions
    group by exclusion_reason, identifier_type
    union all
    select
        'kept_on_profile_not_bridge' as metric,
        identifier_type,
        count(*) as metric_value
    from bridges
    group by identifier_type
)

select * from metrics
