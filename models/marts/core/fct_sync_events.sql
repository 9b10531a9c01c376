{#
    The activation engine's closed-loop events (source cdp_sync.sync_events), with the
    customer re-mapped to today's id when the synced id has since been merged away.
    Grain: one row per sync event. Events of a forgotten customer (privacy_tombstones) are
    left out until the sync engine's forget pass deletes them. Before the first sync run
    the table does not exist and this model is an empty, typed relation, so `dbt build`
    works on a fresh warehouse.
#}
{%- set sync_events_source = source('cdp_sync', 'sync_events') %}
{%- set sync_events_relation = adapter.get_relation(
    database=sync_events_source.database,
    schema=sync_events_source.schema,
    identifier=sync_events_source.identifier,
) if execute else none %}

with

sync_events as (
    {%- if sync_events_relation is not none %}
        select
            cast(event_id as {{ dbt.type_string() }}) as event_id,
            cast(customer_id as {{ dbt.type_string() }}) as customer_id,
            cast(event_type as {{ dbt.type_string() }}) as event_type,
            cast(audience as {{ dbt.type_string() }}) as audience,
            cast(destination as {{ dbt.type_string() }}) as destination,
            cast(channel as {{ dbt.type_string() }}) as channel,
            cast(sync_key as {{ dbt.type_string() }}) as sync_key,
            cast(run_id as {{ dbt.type_string() }}) as run_id,
            cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at
        from {{ sync_events_source }}
    {%- else %}
        -- cdp_sync.sync_events does not exist yet: no sync has run
        select
            cast(null as {{ dbt.type_string() }}) as event_id,
            cast(null as {{ dbt.type_string() }}) as customer_id,
            cast(null as {{ dbt.type_string() }}) as event_type,
            cast(null as {{ dbt.type_string() }}) as audience,
            cast(null as {{ dbt.type_string() }}) as destination,
            cast(null as {{ dbt.type_string() }}) as channel,
            cast(null as {{ dbt.type_string() }}) as sync_key,
            cast(null as {{ dbt.type_string() }}) as run_id,
            cast(null as {{ dbt.type_timestamp() }}) as occurred_at
        where 1 = 0
    {%- endif %}
),

forgotten_customers as (
    select identifier_hash
    from {{ ref('privacy_tombstones') }}
    where identifier_type = 'customer_id'
),

sync_events_kept as (
    select *
    from sync_events
    where not exists (
            select 1
            from forgotten_customers
            where forgotten_customers.identifier_hash
                = {{ cdp.identifier_hash("'customer_id'", 'sync_events.customer_id') }}
        )
),

customer_ids as (
    select
        customer_id,
        current_customer_id
    from {{ ref('int_customer_ids_resolved') }}
),

events_mapped as (
    select
        sync_events.event_id,
        customer_ids.current_customer_id as customer_id,
        sync_events.customer_id as synced_customer_id,
        sync_events.event_type,
        sync_events.audience,
        sync_events.destination,
        sync_events.channel,
        sync_events.sync_key,
        sync_events.run_id,
        sync_events.occurred_at
    from sync_events_kept as sync_events
    left outer join customer_ids on sync_events.customer_id = customer_ids.customer_id
)

select * from events_mapped
