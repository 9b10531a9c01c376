{#
    Welcome series: members who joined, or bought for the first time, in the last 30 days
    (as of customer_features.as_of_at). One row per customer.
#}
{{ cdp.build_audience(
    traits=[
        "is_member",
        "days_since_registration <= 30 or days_since_first_order <= 30",
    ],
    tag_columns=['lifecycle_stage', 'preferred_channel', 'engagement'],
) }}
