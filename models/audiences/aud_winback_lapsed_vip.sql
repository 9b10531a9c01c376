{#
    Win-back: high-value customers (value_tier vip or high) with no order for more than
    180 days (lifecycle_stage lapsed). One row per customer.
#}
{{ cdp.build_audience(
    tags={'lifecycle_stage': ['lapsed'], 'value_tier': ['vip', 'high']},
    tag_columns=['lifecycle_stage', 'value_tier', 'rfm_segment', 'preferred_channel'],
) }}
