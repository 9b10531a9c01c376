{#
    marts.audience_membership_history for BI, one row per audience, customer and membership
    spell. No PII; columns are listed so that a column added to the mart is not exposed
    until it is added here.
#}
{{ config(alias='audience_membership_history') }}

with

source_rows as (
    select
        membership_spell_id,
        audience,
        audience_model,
        customer_id,
        entered_at,
        left_at,
        is_current_member
    from {{ ref('audience_membership_history') }}
)

select * from source_rows
