{# Every raw WeChat follower row once: cleaned, typed, with the reason it is rejected. #}
{{ config(meta={'cdp_privacy': {
    'mode': 'erase',
    'keep_columns': ['source_row_id'],
    'identifier_columns': [['openid', 'openid'], ['unionid', 'unionid'], ['phone', 'phone']]
}}) }}

{% set rows_decided %}
with

source as (
    {{ cdp.source_rows(source('raw', 'wechat_followers'),
        ['openid', 'unionid', 'phone', 'nickname', 'city', 'subscribed_at', 'unsubscribed_at']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('openid') }} as openid,
        {{ cdp.clean_text('unionid') }} as unionid,
        {{ cdp.clean_text('phone') }} as phone_raw,
        {{ cdp.normalize_phone('phone') }} as phone,
        {{ cdp.clean_text('nickname') }} as nickname,
        {{ cdp.clean_text('city') }} as city,
        {{ cdp.clean_text('subscribed_at') }} as subscribed_at_raw,
        {{ cdp.parse_timestamp_utc('subscribed_at', 'wechat_followers') }} as subscribed_at_parsed,
        {{ cdp.clean_text('unsubscribed_at') }} as unsubscribed_at_raw,
        {{ cdp.parse_timestamp_utc('unsubscribed_at', 'wechat_followers') }}
            as unsubscribed_at_parsed
    from source
),

rows_checked as (
    select
        *,
        case
            when {{ cdp.is_timestamp_in_range('subscribed_at_parsed') }} then subscribed_at_parsed
        end as subscribed_at,
        case
            when {{ cdp.is_timestamp_in_range('unsubscribed_at_parsed') }}
                then unsubscribed_at_parsed
        end as unsubscribed_at,
        case
            when openid is null then 'missing_key'
        end as row_error
    from cleaned
),

rows_dated as (
    select
        *,
        -- the version kept is the one with the latest subscribe or unsubscribe
        greatest(
            coalesce(subscribed_at, unsubscribed_at), coalesce(unsubscribed_at, subscribed_at)
        ) as last_changed_at
    from rows_checked
),

rejections_decided as (
    {{ cdp.decide_rejections('rows_dated', ['openid'],
        'last_changed_at desc nulls last, source_row_id asc') }}
)

select * from rejections_decided
{% endset %}

{{ cdp.erase_forgotten_rows(rows_decided) }}
