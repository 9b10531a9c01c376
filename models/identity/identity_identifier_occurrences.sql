{#
    Every identifier seen on every staged record (consent events are not evidence of
    identity and are left out). Grain: one row per source record and identifier.
#}
{%- set type_rows = [] %}
{%- for identifier_type in var('identity_type_priority') %}
    {%- do type_rows.append("select '" ~ identifier_type ~ "' as identifier_type") %}
{%- endfor %}

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

identifier_types as (
    {{ type_rows | join(' union all ') }}
),

blocklist as (
    {#- one row per identifier type and blocked value: a `*` row (every type) is spelled out
        for each type of var identity_type_priority, so one equi-join flags occurrences #}
    select distinct
        identifier_types.identifier_type,
        lower(blocked.identifier_value) as identifier_value
    from {{ ref('identity_blocklist') }} as blocked
    inner join identifier_types
        on blocked.identifier_type in (identifier_types.identifier_type, '*')
),

occurrences_flagged as (
    select
        occurrences.source_name,
        occurrences.source_key,
        occurrences.seen_at,
        occurrences.identifier_type,
        occurrences.identifier_value,
        {{ cdp.hash_to_bigint(
            "occurrences.identifier_type || ':' || occurrences.identifier_value"
        ) }} as node_id,
        blocked.identifier_value is not null as is_blocklisted
    from occurrences_unioned as occurrences
    left outer join blocklist as blocked
        on lower(occurrences.identifier_value) = blocked.identifier_value
            and occurrences.identifier_type = blocked.identifier_type
)

select * from occurrences_flagged
