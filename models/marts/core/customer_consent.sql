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
{%- set defaults = var('consent_defaults') %}
{%- set purposes = var('consent_purposes', ['marketing']) %}
{%- set grid_channels = "'" ~ defaults.keys() | join("', '") ~ "'" %}
{%- set grid_purposes = "'" ~ purposes | join("', '") ~ "'" %}

with

customers as (
    select customer_id
    from {{ ref('int_customer_ids_resolved') }}
    where is_active
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
    where customer_id is not null
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
)

select * from consent_decided
