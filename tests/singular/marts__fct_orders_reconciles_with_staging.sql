{#
    Revenue reconciles to the cent: per source, fct_orders has as many orders and the same
    gross, discount and net totals as staging. Fails with one row per source that differs.
#}
with

staged as (
    select
        'ecom_orders' as source_name,
        count(*) as orders_count,
        coalesce(sum(total_amount), 0) as gross_amount,
        coalesce(sum(discount_amount), 0) as discount_amount,
        coalesce(sum(net_amount), 0) as net_amount
    from {{ ref('stg_ecom__orders') }}
    union all
    select
        'pos_transactions' as source_name,
        count(*) as orders_count,
        coalesce(sum(amount + discount_amount), 0) as gross_amount,
        coalesce(sum(discount_amount), 0) as discount_amount,
        coalesce(sum(amount), 0) as net_amount
    from {{ ref('stg_pos__transactions') }}
),

modelled as (
    select
        source_name,
        count(*) as orders_count,
        coalesce(sum(gross_amount), 0) as gross_amount,
        coalesce(sum(discount_amount), 0) as discount_amount,
        coalesce(sum(net_amount), 0) as net_amount
    from {{ ref('fct_orders') }}
    group by source_name
),

differences as (
    select
        staged.source_name,
        staged.orders_count as staged_orders,
        modelled.orders_count as modelled_orders,
        staged.net_amount as staged_net_amount,
        modelled.net_amount as modelled_net_amount
    from staged
    left outer join modelled on staged.source_name = modelled.source_name
    where coalesce(modelled.orders_count, 0) <> staged.orders_count
        or coalesce(modelled.gross_amount, 0) <> staged.gross_amount
        or coalesce(modelled.discount_amount, 0) <> staged.discount_amount
        or coalesce(modelled.net_amount, 0) <> staged.net_amount
)

select * from differences
