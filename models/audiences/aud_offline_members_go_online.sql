{#
    Offline-only members to invite online: members with store purchases and no online
    order. One row per customer.
#}
{{ cdp.build_audience(
    tags={'preferred_channel': ['offline']},
    traits=["is_member", "online_orders_count = 0", "offline_orders_count >= 1"],
    tag_columns=['preferred_platform', 'lifecycle_stage', 'value_tier'],
) }}
