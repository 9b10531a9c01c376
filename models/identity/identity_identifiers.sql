{#
    Every distinct identifier with its over-merge guards. Grain: one row per identifier
    (type and normalised value). bridge_exclusion_reason says why it may not link records:
      blocklisted  - a junk value from seed identity_blocklist
      hub          - co-occurs with more distinct identifiers than var identity_hub_limits
      bridge_limit - seen with more distinct anchors (member_ids) than var identity_bridge_limits
    Anchors themselves are never excluded by the two limits.
#}
{%- set hub_limit = cdp.identity_limit_for_type(
    'identity_hub_limits', 'identifiers.identifier_type') %}
{%- set bridge_limit = cdp.identity_limit_for_type(
    'identity_bridge_limits', 'identifiers.identifier_type') %}

with

occurrences as (
    select
        node_id,
        identifier_type,
        identifier_value,
        source_name,
        seen_at,
        is_blocklisted
    from {{ ref('identity_identifier_occurrences') }}
),

edges as (
    select
        node_a,
        node_b,
        identifier_type_a,
        identifier_type_b
    from {{ ref('identity_edges') }}
),

occurrences_per_source as (
    select
        node_id,
        identifier_type,
        identifier_value,
        source_name,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) as record_count,
        max(case when is_blocklisted then 1 else 0 end) as blocklisted_flag
    from occurrences
    group by node_id, identifier_type, identifier_value, source_name
),

identifiers_aggregated as (
    select
        node_id,
        identifier_type,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        sum(record_count) as record_count,
        {{ dbt.listagg('source_name', "', '", 'order by source_name') }} as sources,
        max(blocklisted_flag) = 1 as is_blocklisted
    from occurrences_per_source
    group by node_id, identifier_type, identifier_value
),

partners as (
    select
        node_a as node_id,
        node_b as partner_node_id,
        identifier_type_b as partner_type
    from edges
    union all
    select
        node_b as node_id,
        node_a as partner_node_id,
        identifier_type_a as partner_type
    from edges
),

partners_counted as (
    select
        node_id,
        count(*) as partner_count,
        sum(case when partner_type = '{{ var("identity_anchor_type") }}' then 1 else 0 end)
            as anchor_partner_count
    from partners
    group by node_id
),

guards_applied as (
    select
        identifiers.node_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.record_count,
        identifiers.sources,
        identifiers.is_blocklisted,
        coalesce(partners_counted.partner_count, 0) as partner_count,
        coalesce(partners_counted.anchor_partner_count, 0) as anchor_partner_count,
        identifiers.identifier_type = '{{ var("identity_anchor_type") }}' as is_anchor,
        case
            when identifiers.is_blocklisted then 'blocklisted'
            when identifiers.identifier_type = '{{ var("identity_anchor_type") }}' then null
            when coalesce(partners_counted.partner_count, 0)
                > {{ hub_limit }}
                then 'hub'
            when coalesce(partners_counted.anchor_partner_count, 0)
                > {{ bridge_limit }}
                then 'bridge_limit'
        end as bridge_exclusion_reason
    from identifiers_aggregated as identifiers
    left outer join partners_counted on identifiers.node_id = partners_counted.node_id
)

select * from guards_applied
