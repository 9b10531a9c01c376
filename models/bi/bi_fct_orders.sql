{#
    marts.fct_orders for BI, one row per order. No PII; columns are listed so that a column
    added to the mart is not exposed until it is added here.
#}
{{ config(alias='fct_orders') }}

with

source_rows as (
    select
        order_key,
        order_id,
        source_name,
        channel,
        customer_id,
        platform,
        store_id,
        ordered_at,
        order_date,
        order_status,
        is_refunded,
        is_cancelled,
        is_revenue,
        gross_amount,
        discount_amount,
        net_amount,
        currency,
        items_count,
        lines_count,
        shipping_city
    from {{ ref('fct_orders') }}
)

select * from source_rows
