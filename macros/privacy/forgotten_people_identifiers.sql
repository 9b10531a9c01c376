{#
    Everything that identifies the people named by the deletion requests `request_ids_sql`
    (a select of request_id), in plain text: one row per request and identifier
    (request_id, identifier_type, identifier_value, node_id). That is the requested
    identifier itself, every identifier the registry gives the customer it resolves to, and
    that customer's ids (identifier_type 'customer_id'): its current id, the ids its
    identifiers had before this run, and the ids retired into it by past merges
    (customer_id_merges, read by name: it is built after the tombstones).

    Only used inside one statement (the tombstones hash it) or a scratch table dropped in
    the same transaction: plain text never persists downstream of raw.
#}
{% macro forgotten_people_identifiers(registry, request_ids_sql) -%}
    {%- set merges = cdp.model_relation('customer_id_merges') -%}
    with

    -- materialized: the normalisation runs once per request, not once per join candidate
    forgotten_requests as {{ cdp.materialized_cte() }} (
        select
            requested.request_id,
            requested.identifier_type,
            {{ cdp.normalize_identifier(
                'requested.identifier_type', 'raw_request.identifier_value'
            ) }} as identifier_value,
            requested.identifier_hash
        from {{ ref('stg_privacy__deletion_requests') }} as requested
        inner join {{ cdp.raw_deletion_requests() }} as raw_request
            on requested.request_id = {{ cdp.clean_text('raw_request.request_id') }}
        where requested.request_id in ({{ request_ids_sql }})
    ),

    forgotten_requested_identifiers as (
        select distinct
            request_id,
            identifier_type,
            identifier_value,
            {{ cdp.hash_to_bigint("identifier_type || ':' || identifier_value") }} as node_id
        from forgotten_requests
        where {{ cdp.identifier_hash('identifier_type', 'identifier_value') }}
            = identifier_hash
    ),

    forgotten_customers_found as (
        select
            requested.request_id,
            registry_rows.customer_id
        from forgotten_requested_identifiers as requested
        inner join {{ registry }} as registry_rows
            on requested.node_id = registry_rows.node_id
        union
        select
            requested.request_id,
            registry_rows.previous_customer_id as customer_id
        from forgotten_requested_identifiers as requested
        inner join {{ registry }} as registry_rows
            on requested.node_id = registry_rows.node_id
        where registry_rows.previous_customer_id is not null
    ),

    forgotten_customers as (
        select
            request_id,
            customer_id
        from forgotten_customers_found
    {%- if merges is not none %}
        union
        select
            found.request_id,
            merges.old_customer_id as customer_id
        from forgotten_customers_found as found
        inner join {{ merges }} as merges
            on found.customer_id = merges.new_customer_id
        where merges.change_type = 'merge'
    {%- endif %}
    ),

    forgotten_identifiers as (
        select
            request_id,
            identifier_type,
            identifier_value,
            node_id
        from forgotten_requested_identifiers
        union
        select
            customers.request_id,
            registry_rows.identifier_type,
            registry_rows.identifier_value,
            registry_rows.node_id
        from forgotten_customers as customers
        inner join {{ registry }} as registry_rows
            on customers.customer_id = registry_rows.customer_id
        union
        select
            request_id,
            'customer_id' as identifier_type,
            customer_id as identifier_value,
            cast(null as {{ dbt.type_bigint() }}) as node_id
        from forgotten_customers
    )

    select * from forgotten_identifiers
{%- endmacro %}
