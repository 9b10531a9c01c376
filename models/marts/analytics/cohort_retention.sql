{#
    Monthly cohort retention. Grain: one row per cohort month (month of the customer's
    first revenue order, any channel) and months since it (0 = the cohort month). A
    customer is retained in a month when they place a revenue order in it.
#}
with

orders as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'ordered_at') }} as date) as order_month,
        net_amount
    from {{ ref('fct_orders') }}
    where is_revenue and customer_id is not null
),

customer_months as (
    select
        customer_id,
        order_month,
        sum(net_amount) as revenue
    from orders
    group by customer_id, order_month
),

customer_months_with_cohort as (
    select
        customer_id,
        order_month,
        revenue,
        min(order_month) over (partition by customer_id) as cohort_month
    from customer_months
),

cohort_activity as (
    select
        cohort_month,
        {{ dbt.datediff('cohort_month', 'order_month', 'month') }} as months_since_first_order,
        count(*) as active_customers,
        sum(revenue) as revenue
    from customer_months_with_cohort
    group by cohort_month, {{ dbt.datediff('cohort_month', 'order_month', 'month') }}
),

cohort_sizes as (
    select
        cohort_month,
        active_customers as cohort_customers
    from cohort_activity
    where months_since_first_order = 0
),

retention_computed as (
    select
        cohort_activity.cohort_month,
        cohort_activity.months_since_first_order,
        cohort_sizes.cohort_customers,
        cohort_activity.active_customers,
        cast(
            1.0 * cohort_activity.active_customers / cohort_sizes.cohort_customers
            as decimal(7, 4)
        ) as retention_rate,
        cohort_activity.revenue
    from cohort_activity
    inner join cohort_sizes on cohort_activity.cohort_month = cohort_sizes.cohort_month
)

select * from retention_computed
