{#
    Current consent of every customer. Grain: one row per customer, channel and purpose:
    every customer gets a row for each channel in var consent_defaults and each purpose in
    var consent_purposes, plus any other channel or purpose they have events for.
    The latest event wins (by occurred_at); at the same instant a revocation beats a grant,
    then the larger consent_event_id wins. Events across the customer's identifiers count
    together (a grant on the email and a later revocation on the phone: revoked).
    No event: consent_status 'default' and is_contactable from var consent_defaults
    (channels missing there are not contactable).
#}
{#
    Incremental by customer (delete+insert on customer_id): a run recomputes only the
    customers touched since its last run (max refreshed_at): those of macro
    customers_touched_since (identifiers gained or lost, records moved; a new customer
    gets its default grid) and those named by a consent event staged since
    (base_consent__events.staged_at, rejected versions too: a re-versioned event may name
    another identifier). A touched customer no longer active comes out as one row without
    channel and the post-hook deletes it. A change of vars consent_defaults or
    consent_purposes needs --full-refresh. On Spark a table.
#}
-- depends_on: {{ ref('identity_customer_touches') }}
-- depends_on: {{ ref('identity_customer_registry') }}
-- depends_on: {{ ref('identity_identifier_changes') }}
-- depends_on: {{ ref('identity_source_records') }}
-- depends_on: {{ ref('customer_identifiers') }}
-- depends_on: {{ ref('base_consent__events') }}
{%- set incremental = target.type != 'spark' %}
{%- set refreshed_at = cdp.run_started_timestamp() %}
{{ config(
    materialized='incremental' if incremental else 'table',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
    post_hook=["delete from {{ this }} where channel is null"] if incremental else [],
    indexes=[{'columns': ['customer_id']}] if target.type == 'postgres' else [],
) }}
{%- set defaults = var('consent_defaults') %}
{%- set purposes = var('consent_purposes', ['marketing']) %}
{%- set grid_channels = "'" ~ defaults.keys() | join("', '") ~ "'" %}
{%- set grid_purposes = "'" ~ purposes | join("', '") ~ "'" %}
{#- also touched: the customers named by consent events staged since the last run #}
{%- set consent_touches %}
    select customer_identifiers.customer_id
    from {{ ref('base_consent__events') }} as staged_events
    inner join {{ ref('customer_identifiers') }} as customer_identifiers
        on staged_events.identifier_type = customer_identifiers.identifier_type
            and staged_events.identifier_value = customer_identifiers.identifier_value
    where staged_events.staged_at > (select last_run.refreshed_at from last_run)
{%- endset %}

with
{%- if is_incremental() %}

    {{ cdp.touched_customers_ctes(also=consent_touches) }}
{%- endif %}

customers as (
    select customer_id
    from {{ ref('int_customer_ids_resolved') }}
    where is_active and {{ cdp.is_touched_customer() }}
),

consent_events as (
    select
        consent_event_id,
        customer_id,
        identifier_type,
        consent_channel,
        purpose,
        consent_status,
        occurred_at,
        consent_source
    from {{ ref('int_consent_events_resolved') }}
    where customer_id is not null and {{ cdp.is_touched_customer() }}
),

events_ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, consent_channel, purpose
            order by
                occurred_at desc,
                case when consent_status = 'revoked' then 0 else 1 end,
                consent_event_id desc
        ) as event_rank
    from consent_events
),

current_consent as (
    select * from events_ranked
    where event_rank = 1
),

{# The default grid, one channel and purpose at a time: every customer, with the
    customer's current consent on that channel and purpose if any (a join on customer_id
    alone against the few customers who have one), then the events on channels or
    purposes outside the grid (every channel of the defaults times every purpose). #}
consent_decided as (
    {%- for channel, contactable in defaults.items() %}
        {%- for purpose in purposes %}
            select
                customers.customer_id,
                '{{ channel }}' as channel,
                '{{ purpose }}' as purpose,
                coalesce(current_consent.consent_status, 'default') as consent_status,
                case current_consent.consent_status
                    when 'granted' then true
                    when 'revoked' then false
                    else {{ 'true' if contactable else 'false' }}
                end as is_contactable,
                current_consent.occurred_at as consent_updated_at,
                current_consent.consent_event_id,
                current_consent.consent_source,
                current_consent.identifier_type as consent_identifier_type
            from customers
            left outer join current_consent
                on customers.customer_id = current_consent.customer_id
                    and current_consent.consent_channel = '{{ channel }}'
                    and current_consent.purpose = '{{ purpose }}'
            union all
        {%- endfor %}
    {%- endfor %}
    select
        customer_id,
        consent_channel as channel,
        purpose,
        consent_status,
        consent_status = 'granted' as is_contactable,
        occurred_at as consent_updated_at,
        consent_event_id,
        consent_source,
        identifier_type as consent_identifier_type
    from current_consent
    where consent_channel not in ({{ grid_channels }})
        or purpose not in ({{ grid_purposes }})
),

rows_written as (
    select
        *,
        {{ refreshed_at }} as refreshed_at
    from consent_decided
    {%- if is_incremental() %}
        union all
        {#- touched customers no longer active: a row without channel removes their rows #}
        select
            touched_customers.customer_id,
            cast(null as {{ dbt.type_string() }}) as channel,
            cast(null as {{ dbt.type_string() }}) as purpose,
            cast(null as {{ dbt.type_string() }}) as consent_status,
            cast(null as {{ dbt.type_boolean() }}) as is_contactable,
            cast(null as {{ dbt.type_timestamp() }}) as consent_updated_at,
            cast(null as {{ dbt.type_string() }}) as consent_event_id,
            cast(null as {{ dbt.type_string() }}) as consent_source,
            cast(null as {{ dbt.type_string() }}) as consent_identifier_type,
            {{ refreshed_at }} as refreshed_at
        from touched_customers
        where not exists (
                select 1
                from customers
                where customers.customer_id = touched_customers.customer_id
            )
    {%- endif %}
)

select * from rows_written
