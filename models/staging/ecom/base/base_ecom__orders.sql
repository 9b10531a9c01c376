{# Every raw order row once: cleaned, typed, with the reason it is rejected (null if kept). #}
{{ config(meta={'cdp_privacy': {
    'mode': 'erase',
    'keep_columns': ['source_row_id', 'order_id'],
    'identifier_columns': [['member_id', 'member_id'], ['email', 'buyer_email'], ['phone', 'buyer_phone']]
}}) }}

{% set rows_decided %}
with

source as (
    {{ cdp.source_rows(source('raw', 'ecom_orders'),
        ['order_id', 'member_id', 'buyer_email', 'buyer_phone', 'platform', 'order_ts', 'status', 'total_amount', 'discount_amount', 'currency', 'shipping_city']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('order_id') }} as order_id,
        {{ cdp.clean_text('member_id') }} as member_id,
        {{ cdp.clean_text('buyer_email') }} as buyer_email_raw,
        {{ cdp.normalize_email('buyer_email') }} as buyer_email,
        {{ cdp.clean_text('buyer_phone') }} as buyer_phone_raw,
        {{ cdp.normalize_phone('buyer_phone') }} as buyer_phone,
        lower({{ cdp.clean_text('platform') }}) as platform,
        {{ cdp.clean_text('order_ts') }} as order_ts_raw,
        {{ cdp.parse_timestamp_utc('order_ts', 'ecom_orders') }} as ordered_at,
        lower({{ cdp.clean_text('status') }}) as order_status,
        {{ cdp.clean_text('total_amount') }} as total_amount_raw,
        {{ cdp.parse_amount('total_amount') }} as total_amount,
        {{ cdp.clean_text('discount_amount') }} as discount_amount_raw,
        {{ cdp.parse_amount('discount_amount') }} as discount_amount_parsed,
        upper(coalesce({{ cdp.clean_text('currency') }}, '{{ var("default_currency", "CNY") }}'))
            as currency,
        {{ cdp.clean_text('shipping_city') }} as shipping_city
    from source
),

rows_checked as (
    select
        *,
        coalesce(discount_amount_parsed, {{ cdp.try_cast_decimal("0") }}) as discount_amount,
        case
            when order_id is null then 'missing_key'
            when order_ts_raw is null then 'missing_timestamp'
            when ordered_at is null then 'invalid_timestamp'
            when not {{ cdp.is_timestamp_in_range('ordered_at') }} then 'timestamp_out_of_range'
            when total_amount_raw is null then 'missing_amount'
            when total_amount is null then 'invalid_amount'
            when total_amount < 0 then 'negative_amount'
            when discount_amount_raw is not null and discount_amount_parsed is null
                then 'invalid_amount'
            when discount_amount_parsed < 0 then 'negative_amount'
        end as row_error
    from cleaned
),

rejections_decided as (
    {{ cdp.decide_rejections('rows_checked', ['order_id'],
        'ordered_at desc nulls last, source_row_id asc') }}
)

select * from rejections_decided
{% endset %}

{{ cdp.erase_forgotten_rows(rows_decided) }}
