{#
    Consent events attached to customers. Grain: one row per staged consent event. An
    event names an identifier (type and normalised value); it belongs to the customer that
    identifier is assigned to, and to nobody (customer_id null) when the identifier is
    unknown, blocklisted or excluded.
#}
{{ config(pre_hook=[
    "{{ cdp.refresh_statistics_of([ref('customer_identifiers')]) }}",
]) }}
with

consent_events as (
    select
        consent_event_id,
        identifier_type,
        identifier_value,
        consent_channel,
        purpose,
        consent_status,
        occurred_at,
        consent_source
    from {{ ref('stg_consent__events') }}
),

customer_identifiers as (
    select
        customer_id,
        identifier_type,
        identifier_value
    from {{ ref('customer_identifiers') }}
),

events_attached as (
    select
        consent_events.consent_event_id,
        customer_identifiers.customer_id,
        consent_events.identifier_type,
        consent_events.consent_channel,
        consent_events.purpose,
        consent_events.consent_status,
        consent_events.occurred_at,
        consent_events.consent_source
    from consent_events
    left outer join customer_identifiers
        on consent_events.identifier_type = customer_identifiers.identifier_type
            and consent_events.identifier_value = customer_identifiers.identifier_value
)

select * from events_attached
