{#
    The customer of every staged record that carries an assigned identifier. Grain: one
    row per source record. When a record's identifiers belong to different customers (a
    split), the first usable one in var identity_type_priority decides; identifiers kept
    only on a profile (over their bridge limit) decide last.
#}
{%- set priority = var('identity_type_priority') %}

with

occurrences as (
    select
        source_name,
        source_key,
        node_id,
        identifier_type
    from {{ ref('identity_identifier_occurrences') }}
    where not is_blocklisted
),

customer_identifiers as (
    select
        node_id,
        customer_id,
        is_bridge_excluded
    from {{ ref('customer_identifiers') }}
),

candidates_ranked as (
    select
        occurrences.source_name,
        occurrences.source_key,
        customer_identifiers.customer_id,
        occurrences.identifier_type as matched_identifier_type,
        row_number() over (
            partition by occurrences.source_name, occurrences.source_key
            order by
                case when customer_identifiers.is_bridge_excluded then 1 else 0 end,
                case occurrences.identifier_type
                    {%- for identifier_type in priority %}
                        when '{{ identifier_type }}' then {{ loop.index }}
                    {%- endfor %}
                    else {{ priority | length + 1 }}
                end,
                customer_identifiers.customer_id
        ) as candidate_rank
    from occurrences
    inner join customer_identifiers on occurrences.node_id = customer_identifiers.node_id
),

records_resolved as (
    select
        source_name,
        source_key,
        customer_id,
        matched_identifier_type
    from candidates_ranked
    where candidate_rank = 1
)

select * from records_resolved
