{#
    Which cluster each identifier belongs to in this run. Grain: one row per assigned
    identifier. Identifiers in the graph take their cluster (an identifier without edges is
    a cluster of its own); contested ones are left out. Identifiers over their bridge limit
    go to the cluster they share most records with, then the one they were seen with
    first; a full tie leaves them out. Blocklisted identifiers and hubs are never assigned.
    Everything left out is listed in identity_exclusions.
#}
with

identifiers as (
    select
        node_id,
        identifier_type,
        identifier_value,
        bridge_exclusion_reason
    from {{ ref('identity_identifiers') }}
),

clusters as (
    select
        node_id,
        cluster_id,
        is_contested
    from {{ ref('identity_clusters') }}
),

edges as (
    select
        node_a,
        node_b,
        record_count,
        first_seen_at
    from {{ ref('identity_edges') }}
),

graph_assignments as (
    select
        identifiers.node_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        coalesce(clusters.cluster_id, identifiers.node_id) as cluster_id,
        false as is_bridge_excluded
    from identifiers
    left outer join clusters on identifiers.node_id = clusters.node_id
    where identifiers.bridge_exclusion_reason is null
        and not coalesce(clusters.is_contested, false)
),

bridge_links as (
    select
        edges.node_a as bridge_node_id,
        edges.node_b as partner_node_id,
        edges.record_count,
        edges.first_seen_at
    from edges
    union all
    select
        edges.node_b as bridge_node_id,
        edges.node_a as partner_node_id,
        edges.record_count,
        edges.first_seen_at
    from edges
),

bridge_votes as (
    select
        bridge_links.bridge_node_id,
        graph_assignments.cluster_id,
        sum(bridge_links.record_count) as shared_records,
        min(bridge_links.first_seen_at) as first_shared_at
    from bridge_links
    inner join identifiers
        on bridge_links.bridge_node_id = identifiers.node_id
            and identifiers.bridge_exclusion_reason = 'bridge_limit'
    inner join graph_assignments on bridge_links.partner_node_id = graph_assignments.node_id
    group by bridge_links.bridge_node_id, graph_assignments.cluster_id
),

bridge_votes_ranked as (
    select
        *,
        row_number() over (
            partition by bridge_node_id
            order by shared_records desc, first_shared_at asc, cluster_id asc
        ) as vote_rank,
        count(*) over (
            partition by bridge_node_id, shared_records, first_shared_at
        ) as tied_clusters
    from bridge_votes
),

bridge_assignments as (
    select
        identifiers.node_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        bridge_votes_ranked.cluster_id,
        true as is_bridge_excluded
    from bridge_votes_ranked
    inner join identifiers on bridge_votes_ranked.bridge_node_id = identifiers.node_id
    where bridge_votes_ranked.vote_rank = 1 and bridge_votes_ranked.tied_clusters = 1
),

assignments_unioned as (
    select * from graph_assignments
    union all
    select * from bridge_assignments
)

select * from assignments_unioned
