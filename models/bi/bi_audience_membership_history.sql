{# audience_membership_history for BI (one row per audience, customer and membership spell): no PII, so every column is exposed. #}
{{ config(alias='audience_membership_history') }}

with

source_rows as (
    select * from {{ ref('audience_membership_history') }}
)

select * from source_rows
