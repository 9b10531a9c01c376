{#
    The records identity resolves again after `since` (a SQL timestamp expression): those
    staged since (identity_identifier_occurrences.staged_at) and those carrying an
    identifier whose customer or bridge flag changed since
    (identity_identifier_changes.changed_at). Returns a select of source_name, source_key
    (distinct). Used by identity_source_records, and by identity_customer_touches to find
    those records' customers before the run rewrites them.
#}
{% macro identity_records_touched_since(since) -%}
    select
        occurrences.source_name,
        occurrences.source_key
    from {{ ref('identity_identifier_occurrences') }} as occurrences
    {#- scalar subqueries: filters on the tables' own rows #}
    where occurrences.staged_at > {{ since }}
    union
    select
        occurrences.source_name,
        occurrences.source_key
    from {{ ref('identity_identifier_occurrences') }} as occurrences
    inner join (
        select changes.node_id
        from {{ ref('identity_identifier_changes') }} as changes
        where changes.changed_at > {{ since }}
    ) as changed_nodes on occurrences.node_id = changed_nodes.node_id
{%- endmacro %}
