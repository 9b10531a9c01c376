{#
    Online orders and till tickets in one grain: one row per order. Online amounts come
    from the order (total before discount, discount, net); a till ticket's `amount` is what
    was paid, so its gross is amount + discount. Nothing is filtered: revenue reconciles
    with staging to the cent (tests/singular/marts__fct_orders_reconciles_with_staging.sql);
    use is_revenue to leave refunded and cancelled orders out of revenue.
#}
{{ config(pre_hook=[
    "{{ cdp.refresh_statistics_of([ref('identity_source_records')]) }}",
]) }}
with

online_orders as (
    select
        order_id,
        platform,
        ordered_at,
        order_status,
        total_amount,
        discount_amount,
        net_amount,
        currency,
        shipping_city
    from {{ ref('stg_ecom__orders') }}
),

order_items as (
    select
        order_id,
        quantity
    from {{ ref('stg_ecom__order_items') }}
),

till_tickets as (
    select
        transaction_id,
        store_id,
        transacted_at,
        amount,
        discount_amount,
        items_count
    from {{ ref('stg_pos__transactions') }}
),

source_records as (
    select
        source_name,
        source_key,
        customer_id
    from {{ ref('identity_source_records') }}
    where source_name in ('ecom_orders', 'pos_transactions')
),

items_per_order as (
    select
        order_id,
        sum(quantity) as items_count,
        count(*) as lines_count
    from order_items
    group by order_id
),

online_orders_shaped as (
    select
        'ecom_orders:' || online_orders.order_id as order_key,
        online_orders.order_id,
        'ecom_orders' as source_name,
        'online' as channel,
        source_records.customer_id,
        online_orders.platform,
        cast(null as {{ dbt.type_string() }}) as store_id,
        online_orders.ordered_at,
        online_orders.order_status,
        online_orders.order_status = 'refunded' as is_refunded,
        online_orders.order_status = 'cancelled' as is_cancelled,
        online_orders.total_amount as gross_amount,
        online_orders.discount_amount,
        online_orders.net_amount,
        online_orders.currency,
        coalesce(items_per_order.items_count, 0) as items_count,
        coalesce(items_per_order.lines_count, 0) as lines_count,
        online_orders.shipping_city
    from online_orders
    left outer join items_per_order on online_orders.order_id = items_per_order.order_id
    left outer join source_records
        on source_records.source_name = 'ecom_orders'
            and online_orders.order_id = source_records.source_key
),

till_tickets_shaped as (
    select
        'pos_transactions:' || till_tickets.transaction_id as order_key,
        till_tickets.transaction_id as order_id,
        'pos_transactions' as source_name,
        'offline' as channel,
        source_records.customer_id,
        cast(null as {{ dbt.type_string() }}) as platform,
        till_tickets.store_id,
        till_tickets.transacted_at as ordered_at,
        'completed' as order_status,
        false as is_refunded,
        false as is_cancelled,
        till_tickets.amount + till_tickets.discount_amount as gross_amount,
        till_tickets.discount_amount,
        till_tickets.amount as net_amount,
        '{{ var("marts_pos_currency", "CNY") }}' as currency,
        coalesce(till_tickets.items_count, 0) as items_count,
        cast(null as integer) as lines_count,
        cast(null as {{ dbt.type_string() }}) as shipping_city
    from till_tickets
    left outer join source_records
        on source_records.source_name = 'pos_transactions'
            and till_tickets.transaction_id = source_records.source_key
),

orders_unioned as (
    select * from online_orders_shaped
    union all
    select * from till_tickets_shaped
),

orders_flagged as (
    select
        order_key,
        order_id,
        source_name,
        channel,
        customer_id,
        platform,
        store_id,
        ordered_at,
        cast(ordered_at as date) as order_date,
        order_status,
        is_refunded,
        is_cancelled,
        not(is_refunded or is_cancelled) as is_revenue,
        gross_amount,
        discount_amount,
        net_amount,
        currency,
        items_count,
        lines_count,
        shipping_city
    from orders_unioned
)

select * from orders_flagged
