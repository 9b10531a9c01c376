{#
    Every identifier seen on every staged record (consent events are not evidence of
    identity and are left out). Grain: one row per source record and identifier.
#}
with

occurrences_unioned as (
    {{ cdp.identity_occurrences(ref('stg_crm__members'), 'crm_members', 'member_id',
        'coalesce(updated_at, registered_at)',
        [['member_id', 'member_id'], ['member_card', 'member_card_no'], ['email', 'email'],
         ['phone', 'phone']]) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_ecom__orders'), 'ecom_orders', 'order_id',
        'ordered_at',
        [['member_id', 'member_id'], ['email', 'buyer_email'], ['phone', 'buyer_phone']]) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_web__events'), 'web_events', 'event_id',
        'occurred_at', [['anonymous_id', 'anonymous_id'], ['member_id', 'member_id']]) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_app__events'), 'app_events', 'event_id',
        'occurred_at', [['device_id', 'device_id'], ['member_id', 'member_id']]) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_pos__transactions'), 'pos_transactions',
        'transaction_id', 'transacted_at',
        [['member_card', 'member_card_no'], ['phone', 'phone']]) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_wechat__followers'), 'wechat_followers', 'openid',
        'coalesce(subscribed_at, unsubscribed_at)',
        [['openid', 'openid'], ['unionid', 'unionid'], ['phone', 'phone']]) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_service__tickets'), 'service_tickets', 'ticket_id',
        'created_at', [['member_id', 'member_id'], ['phone', 'phone'], ['email', 'email']]) }}
),

blocklist as (
    select distinct
        identifier_type,
        lower(identifier_value) as identifier_value
    from {{ ref('identity_blocklist') }}
),

occurrences_flagged as (
    {#- two equi-joins (blocked for this type, blocked for every type) rather than an
        exists() in the select list, which Spark's optimizer fails on above a union #}
    select
        occurrences.source_name,
        occurrences.source_key,
        occurrences.seen_at,
        occurrences.identifier_type,
        occurrences.identifier_value,
        {{ cdp.hash_to_bigint(
            "occurrences.identifier_type || ':' || occurrences.identifier_value"
        ) }} as node_id,
        (
            blocked_for_type.identifier_value is not null
            or blocked_for_all.identifier_value is not null
        ) as is_blocklisted
    from occurrences_unioned as occurrences
    left outer join blocklist as blocked_for_type
        on lower(occurrences.identifier_value) = blocked_for_type.identifier_value
            and occurrences.identifier_type = blocked_for_type.identifier_type
    left outer join blocklist as blocked_for_all
        on lower(occurrences.identifier_value) = blocked_for_all.identifier_value
            and blocked_for_all.identifier_type = '*'
)

select * from occurrences_flagged
