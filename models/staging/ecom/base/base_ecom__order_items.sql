{# Every raw order line once: cleaned, typed, with the reason it is rejected (null if kept). #}
{{ config(meta={'cdp_privacy': {
    'mode': 'erase',
    'keep_columns': ['source_row_id', 'order_id', 'order_item_id'],
    'parent': {'model': 'base_ecom__orders', 'key': 'order_id'}
}}) }}
-- depends_on: {{ ref('base_ecom__orders') }}

{% set rows_decided %}
with

source as (
    {{ cdp.source_rows(source('raw', 'ecom_order_items'),
        ['order_id', 'line_no', 'sku', 'product_name', 'category', 'quantity', 'unit_price']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('order_id') }} as order_id,
        {{ cdp.clean_text('line_no') }} as line_no_raw,
        {{ cdp.parse_integer('line_no') }} as line_number,
        {{ cdp.clean_text('sku') }} as sku,
        {{ cdp.clean_text('product_name') }} as product_name,
        lower({{ cdp.clean_text('category') }}) as category,
        {{ cdp.clean_text('quantity') }} as quantity_raw,
        {{ cdp.parse_integer('quantity') }} as quantity,
        {{ cdp.clean_text('unit_price') }} as unit_price_raw,
        {{ cdp.parse_amount('unit_price') }} as unit_price
    from source
),

rows_checked as (
    select
        *,
        case
            when order_id is null or line_number is null then 'missing_key'
            when quantity is null then 'invalid_quantity'
            when quantity <= 0 then 'invalid_quantity'
            when unit_price is null then 'invalid_amount'
            when unit_price < 0 then 'negative_amount'
        end as row_error
    from cleaned
),

rejections_decided as (
    {{ cdp.decide_rejections('rows_checked', ['order_id', 'line_number'],
        'source_row_id') }}
),

rows_keyed as (
    select
        *,
        order_id || '-' || cast(line_number as {{ dbt.type_string() }}) as order_item_id
    from rejections_decided
)

select * from rows_keyed
{% endset %}

{{ cdp.erase_forgotten_rows(rows_decided) }}
