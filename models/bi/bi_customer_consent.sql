{#
    marts.customer_consent for BI, one row per customer, channel and purpose. No PII;
    columns are listed so that a column added to the mart is not exposed until it is added
    here.
#}
{{ config(alias='customer_consent') }}

with

source_rows as (
    select
        customer_id,
        channel,
        purpose,
        consent_status,
        is_contactable,
        consent_updated_at,
        consent_event_id,
        consent_source,
        consent_identifier_type
    from {{ ref('customer_consent') }}
)

select * from source_rows
