{#
    Monthly digital funnel: visit -> add to cart -> order. Grain: one row per month and
    step. A customer reaches a step in a month when they did it and every earlier step in
    that month: visit = any web or app event, add to cart = an add_to_cart event, order =
    an online order (order_placed). One pass over fct_events.
#}
{%- set steps = ['visit', 'add_to_cart', 'order'] %}

with

events as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'occurred_at') }} as date) as activity_month,
        channel,
        event_type
    from {{ ref('fct_events') }}
    where customer_id is not null
        and (channel in ('web', 'app') or event_type = 'order_placed')
),

customer_months as (
    select
        activity_month,
        customer_id,
        max(case when channel in ('web', 'app') then 1 else 0 end) as did_visit,
        max(case when event_type = 'add_to_cart' then 1 else 0 end) as did_add_to_cart,
        max(case when event_type = 'order_placed' then 1 else 0 end) as did_order
    from events
    group by activity_month, customer_id
),

steps_reached as (
    select
        activity_month,
        sum(did_visit) as visit_customers,
        sum(did_visit * did_add_to_cart) as add_to_cart_customers,
        sum(did_visit * did_add_to_cart * did_order) as order_customers
    from customer_months
    group by activity_month
),

steps_unpivoted as (
    {%- for step in steps %}
        select
            activity_month,
            {{ loop.index }} as step_number,
            '{{ step }}' as step_name,
            {{ step }}_customers as customers,
            {{ (loop.previtem if not loop.first else step) }}_customers as previous_step_customers,
            visit_customers as first_step_customers
        from steps_reached
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

conversion_computed as (
    select
        activity_month,
        step_number,
        step_name,
        customers,
        cast(1.0 * customers / nullif(previous_step_customers, 0) as decimal(7, 4))
            as conversion_from_previous,
        cast(1.0 * customers / nullif(first_step_customers, 0) as decimal(7, 4))
            as conversion_from_first
    from steps_unpivoted
)

select * from conversion_computed
