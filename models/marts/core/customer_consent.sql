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
{{ config(pre_hook=[
    "{{ cdp.refresh_statistics_of([ref('customer_identifiers')]) }}",
]) }}
{%- set defaults = var('consent_defaults') %}
{%- set purposes = var('consent_purposes', ['marketing']) %}

with

customers as (
    select distinct customer_id from {{ ref('customer_identifiers') }}
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

channel_defaults as (
    {%- for channel, contactable in defaults.items() %}
        {%- set channel_last = loop.last %}
        {%- for purpose in purposes %}
            select
                '{{ channel }}' as channel,
                '{{ purpose }}' as purpose,
                {{ 'true' if contactable else 'false' }} as is_contactable_by_default
            {%- if not (channel_last and loop.last) %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
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
    select
        *,
        {#- one composite join key: PostgreSQL, misjudging the size of a rank = 1 filter,
            otherwise merge-joins on channel and purpose alone #}
        customer_id || '|' || consent_channel || '|' || purpose as consent_key
    from events_ranked
    where event_rank = 1
),

default_grid as (
    select
        customers.customer_id,
        channel_defaults.channel,
        channel_defaults.purpose,
        channel_defaults.is_contactable_by_default
    from customers
    cross join channel_defaults
),

consent_keys as (
    select
        customer_id || '|' || channel || '|' || purpose as consent_key,
        customer_id,
        channel,
        purpose,
        is_contactable_by_default
    from default_grid
    union all
    select
        current_consent.consent_key,
        current_consent.customer_id,
        current_consent.consent_channel as channel,
        current_consent.purpose,
        false as is_contactable_by_default
    from current_consent
    left outer join channel_defaults
        on current_consent.consent_channel = channel_defaults.channel
            and current_consent.purpose = channel_defaults.purpose
    where channel_defaults.channel is null
),

consent_decided as (
    select
        consent_keys.customer_id,
        consent_keys.channel,
        consent_keys.purpose,
        coalesce(current_consent.consent_status, 'default') as consent_status,
        case current_consent.consent_status
            when 'granted' then true
            when 'revoked' then false
            else consent_keys.is_contactable_by_default
        end as is_contactable,
        current_consent.occurred_at as consent_updated_at,
        current_consent.consent_event_id,
        current_consent.consent_source,
        current_consent.identifier_type as consent_identifier_type
    from consent_keys
    left outer join current_consent on consent_keys.consent_key = current_consent.consent_key
)

select * from consent_decided
