{#
    Audience entries and exits, from the membership snapshot. Grain: one row per audience,
    customer and membership spell: entered_at is the first snapshot that saw the customer
    in the audience, left_at the snapshot that no longer did (null while still a member).
    Precision is the snapshot cadence (each `dbt build` / `dbt snapshot`).
#}
with

snapshot_rows as (
    select
        audience,
        audience_model,
        customer_id,
        dbt_scd_id,
        dbt_valid_from,
        dbt_valid_to
    from {{ ref('audience_membership_snapshot') }}
),

spells as (
    select
        dbt_scd_id as membership_spell_id,
        audience,
        audience_model,
        customer_id,
        dbt_valid_from as entered_at,
        dbt_valid_to as left_at,
        dbt_valid_to is null as is_current_member
    from snapshot_rows
)

select * from spells
