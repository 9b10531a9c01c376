{#
    New-product seed: engaged buyers of the launch category (category_affinity) who
    bought or were active in the last 90 days. One row per customer.
#}
{%- set launch_category = 'beauty' %}

{{ cdp.build_audience(
    tags={
        'category_affinity': [launch_category],
        'lifecycle_stage': ['new', 'active', 'won_back', 'one_time_buyer', 'at_risk'],
    },
    traits=["days_since_last_activity <= 90"],
    tag_columns=['category_affinity', 'lifecycle_stage', 'engagement'],
) }}
