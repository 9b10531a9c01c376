{#
    Every identifier assigned to a customer, exactly once. Grain: one row per identifier
    (type and normalised value). Blocklisted, hub, contested or tied identifiers are in
    identity_exclusions instead.
#}
-- depends_on: {{ ref('privacy_tombstones') }}  (built from the purged registry)
-- depends_on: {{ ref('identity_release_gate') }}

with

registry as (
    select
        node_id,
        customer_id
    from {{ ref('identity_customer_registry') }}
    where is_active
),

assignments as (
    select
        node_id,
        is_bridge_excluded
    from {{ ref('identity_node_assignments') }}
),

identifiers as (
    select
        node_id,
        identifier_type,
        identifier_value,
        first_seen_at,
        last_seen_at,
        sources
    from {{ ref('identity_identifiers') }}
),

identifiers_assigned as (
    select
        registry.customer_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        assignments.is_bridge_excluded,
        identifiers.sources,
        identifiers.node_id
    from registry
    inner join assignments on registry.node_id = assignments.node_id
    inner join identifiers on registry.node_id = identifiers.node_id
)

select * from identifiers_assigned
