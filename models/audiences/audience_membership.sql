{#
    Who is in which audience now. Grain: one row per audience and customer. Snapshotted by
    snapshots/audience_membership_snapshot (entries and exits over time). A new aud_* model
    must be added to the list below; the test marts__audience_membership_lists_every_audience
    fails until it is.
#}
{%- set audience_models = [
    'aud_welcome_new_members',
    'aud_winback_lapsed_vip',
    'aud_churn_risk_retention',
    'aud_new_product_seed',
    'aud_offline_members_go_online',
] %}

with

memberships_unioned as (
    {%- for model_name in audience_models %}
        select
            '{{ model_name[4:] }}' as audience,
            '{{ model_name }}' as audience_model,
            customer_id
        from {{ ref(model_name) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from memberships_unioned
