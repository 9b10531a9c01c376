{#
    Identifiers kept on a profile but not allowed to link records, because they were seen
    with more members than var identity_bridge_limits allows (a family phone, a shop's
    shared iPad). Grain: one row per such identifier.
#}
with

identifiers as (
    select
        identifier_type,
        identifier_value,
        anchor_partner_count,
        partner_count,
        node_id
    from {{ ref('identity_identifiers') }}
    where bridge_exclusion_reason = 'bridge_limit'
),

assigned as (
    select
        node_id,
        customer_id
    from {{ ref('customer_identifiers') }}
),

bridges_listed as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.anchor_partner_count,
        identifiers.partner_count,
        assigned.customer_id as kept_on_customer_id
    from identifiers
    left outer join assigned on identifiers.node_id = assigned.node_id
)

select * from bridges_listed
