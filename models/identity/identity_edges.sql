{#
    The identifier graph: two identifiers are linked when they appear on the same record.
    Blocklisted values link nothing. Grain: one row per pair of identifiers (node_a < node_b).
#}
with

occurrences as (
    select
        source_name,
        source_key,
        seen_at,
        node_id,
        identifier_type
    from {{ ref('identity_identifier_occurrences') }}
    where not is_blocklisted
),

pairs_on_records as (
    select
        left_side.node_id as node_a,
        right_side.node_id as node_b,
        left_side.identifier_type as identifier_type_a,
        right_side.identifier_type as identifier_type_b,
        left_side.source_name,
        left_side.seen_at
    from occurrences as left_side
    inner join occurrences as right_side
        on left_side.source_name = right_side.source_name
            and left_side.source_key = right_side.source_key
            and left_side.node_id < right_side.node_id
),

pairs_per_source as (
    select
        node_a,
        node_b,
        identifier_type_a,
        identifier_type_b,
        source_name,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) as record_count
    from pairs_on_records
    group by node_a, node_b, identifier_type_a, identifier_type_b, source_name
),

pairs_aggregated as (
    select
        node_a,
        node_b,
        identifier_type_a,
        identifier_type_b,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        sum(record_count) as record_count,
        {{ dbt.listagg('source_name', "', '", 'order by source_name') }} as sources
    from pairs_per_source
    group by node_a, node_b, identifier_type_a, identifier_type_b
)

select * from pairs_aggregated
