{#
    Every raw till ticket once: cleaned, typed, with the reason it is rejected (null if kept).
    txn_ts is store local time; var source_time_zones.pos_transactions converts it to UTC.
#}
{{ config(meta={'cdp_privacy': {
    'mode': 'erase',
    'keep_columns': ['source_row_id', 'transaction_id'],
    'identifier_columns': [['member_card', 'member_card_no'], ['phone', 'phone']]
}}) }}

{% set rows_decided %}
with

source as (
    {{ cdp.source_rows(source('raw', 'pos_transactions'),
        ['txn_id', 'store_id', 'member_card_no', 'phone', 'txn_ts', 'amount', 'discount_amount', 'items_count']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('txn_id') }} as transaction_id,
        {{ cdp.clean_text('store_id') }} as store_id,
        {{ cdp.clean_text('member_card_no') }} as member_card_no,
        {{ cdp.clean_text('phone') }} as phone_raw,
        {{ cdp.normalize_phone('phone') }} as phone,
        {{ cdp.clean_text('txn_ts') }} as txn_ts_raw,
        {{ cdp.parse_timestamp_utc('txn_ts', 'pos_transactions') }} as transacted_at,
        {{ cdp.clean_text('amount') }} as amount_raw,
        {{ cdp.parse_amount('amount') }} as amount,
        {{ cdp.clean_text('discount_amount') }} as discount_amount_raw,
        {{ cdp.parse_amount('discount_amount') }} as discount_amount_parsed,
        {{ cdp.clean_text('items_count') }} as items_count_raw,
        {{ cdp.parse_integer('items_count') }} as items_count
    from source
),

rows_checked as (
    select
        *,
        coalesce(discount_amount_parsed, {{ cdp.try_cast_decimal("0") }}) as discount_amount,
        case
            when transaction_id is null then 'missing_key'
            when txn_ts_raw is null then 'missing_timestamp'
            when transacted_at is null then 'invalid_timestamp'
            when not {{ cdp.is_timestamp_in_range('transacted_at') }} then 'timestamp_out_of_range'
            when amount_raw is null then 'missing_amount'
            when amount is null then 'invalid_amount'
            when amount < 0 then 'negative_amount'
            when discount_amount_raw is not null and discount_amount_parsed is null
                then 'invalid_amount'
            when discount_amount_parsed < 0 then 'negative_amount'
        end as row_error
    from cleaned
),

rejections_decided as (
    {{ cdp.decide_rejections('rows_checked', ['transaction_id'],
        'transacted_at desc nulls last, source_row_id asc') }}
)

select * from rejections_decided
{% endset %}

{{ cdp.erase_forgotten_rows(rows_decided) }}
