{#
    Retention offer: repeat buyers drifting away, last order 91 to 180 days ago
    (lifecycle_stage at_risk) with at least two orders. One row per customer.
#}
{{ cdp.build_audience(
    tags={'lifecycle_stage': ['at_risk']},
    traits=["orders_count >= 2"],
    tag_columns=['lifecycle_stage', 'rfm_segment', 'value_tier', 'price_sensitivity'],
) }}
