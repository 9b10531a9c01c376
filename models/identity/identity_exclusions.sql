{#
    Identifiers that belong to no customer, with the reason. Grain: one row per identifier.
      blocklisted - junk value (seed identity_blocklist)
      hub         - linked to too many identifiers (var identity_hub_limits)
      contested   - as close to two members as to one: cannot tell whose it is
      bridge_tie  - over its bridge limit and shared equally by two customers
#}
-- depends_on: {{ ref('privacy_tombstones') }}  (built from the purged registry)
with

identifiers as (
    select
        node_id,
        identifier_type,
        identifier_value,
        bridge_exclusion_reason,
        partner_count,
        anchor_partner_count,
        first_seen_at,
        last_seen_at,
        sources
    from {{ ref('identity_identifiers') }}
),

clusters as (
    select
        node_id,
        is_contested
    from {{ ref('identity_clusters') }}
),

assignments as (
    select node_id from {{ ref('identity_node_assignments') }}
),

exclusions_explained as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        case
            when identifiers.bridge_exclusion_reason = 'bridge_limit' then 'bridge_tie'
            when identifiers.bridge_exclusion_reason is not null
                then identifiers.bridge_exclusion_reason
            when clusters.is_contested then 'contested'
            else 'unassigned'
        end as exclusion_reason,
        identifiers.partner_count,
        identifiers.anchor_partner_count,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.sources
    from identifiers
    left outer join clusters on identifiers.node_id = clusters.node_id
    left outer join assignments on identifiers.node_id = assignments.node_id
    where assignments.node_id is null
)

select * from exclusions_explained
