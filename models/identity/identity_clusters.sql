{#
    Clusters of identifiers (see macros/identity/materialization_identity_clusters.sql):
    connected components of the guarded graph, with components that hold more than one
    anchor split by nearest anchor. Grain: one row per identifier that has an edge.
#}
{{ config(materialized='identity_clusters') }}

with

usable_identifiers as (
    select
        node_id,
        is_anchor
    from {{ ref('identity_identifiers') }}
    where bridge_exclusion_reason is null
),

edges as (
    select
        node_a,
        node_b
    from {{ ref('identity_edges') }}
),

guarded_edges as (
    select
        edges.node_a,
        edges.node_b,
        identifier_a.is_anchor as is_anchor_a,
        identifier_b.is_anchor as is_anchor_b
    from edges
    inner join usable_identifiers as identifier_a on edges.node_a = identifier_a.node_id
    inner join usable_identifiers as identifier_b on edges.node_b = identifier_b.node_id
)

select * from guarded_edges
