{#
    The traits tags and audiences are defined on. Grain: one row per customer (all of
    dim_customers). Everything is measured at a reference time, as_of_at (var tags_as_of):
    null = the latest order or customer event in the data, so historical demo data still
    yields meaningful tags; 'now' = the run time; or a timestamp literal. Orders and events
    after as_of_at are ignored, so a past as_of_at recomputes past tags. Orders count when
    they are neither refunded nor cancelled; events exclude consent and sync loop-back
    (not customer behaviour).

    RFM scores (1-5) rank buyers by quintile with percent_rank, so ties share a score:
    recency (latest order: most recent = 5), frequency (orders) and monetary (net revenue).
#}
{%- set as_of = var('tags_as_of', none) %}
{%- set customer_events = "customer_id is not null and channel not in ('consent', 'activation')" %}

with

customers as (
    select
        customer_id,
        is_member,
        registered_at,
        is_wechat_follower,
        is_app_user
    from {{ ref('dim_customers') }}
),

orders as (
    select
        order_id,
        source_name,
        customer_id,
        channel,
        platform,
        ordered_at,
        discount_amount,
        net_amount
    from {{ ref('fct_orders') }}
    where is_revenue and customer_id is not null
),

order_items as (
    select
        order_id,
        category,
        line_amount
    from {{ ref('stg_ecom__order_items') }}
),

events as (
    select
        customer_id,
        event_type,
        occurred_at
    from {{ ref('fct_events') }}
    where {{ customer_events }}
),

{# Read apart from `events`, so that no engine keeps a copy of the events between the two #}
latest_event as (
    select max(occurred_at) as latest_at
    from {{ ref('fct_events') }}
    where {{ customer_events }}
),

reference_time as (
    {%- if as_of is none %}
        select
            coalesce(max(latest_at), {{ dbt.current_timestamp_in_utc_backcompat() }}) as as_of_at
        from (
            select max(ordered_at) as latest_at from orders
            union all
            select latest_at from latest_event
        ) as latest
    {%- elif as_of == 'now' %}
        select {{ dbt.current_timestamp_in_utc_backcompat() }} as as_of_at
    {%- else %}
        select cast('{{ as_of }}' as {{ dbt.type_timestamp() }}) as as_of_at
    {%- endif %}
),

orders_as_of as (
    select
        orders.*,
        reference_time.as_of_at,
        row_number() over (
            partition by orders.customer_id
            order by orders.ordered_at desc, orders.source_name asc, orders.order_id asc
        ) as recency_rank
    from orders
    cross join reference_time
    where orders.ordered_at <= reference_time.as_of_at
),

orders_summarised as (
    select
        customer_id,
        count(*) as orders_count,
        sum(case when channel = 'online' then 1 else 0 end) as online_orders_count,
        sum(case when channel = 'offline' then 1 else 0 end) as offline_orders_count,
        sum(net_amount) as total_revenue,
        sum(case when channel = 'online' then net_amount else 0 end) as online_revenue,
        sum(case when channel = 'offline' then net_amount else 0 end) as offline_revenue,
        sum(case when discount_amount > 0 then net_amount else 0 end) as discounted_revenue,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        max(case when recency_rank = 2 then ordered_at end) as previous_order_at,
        sum(
            case when ordered_at > {{ dbt.dateadd('day', -90, 'as_of_at') }} then 1 else 0 end
        ) as orders_last_90_days,
        sum(
            case
                when ordered_at > {{ dbt.dateadd('day', -180, 'as_of_at') }}
                    and ordered_at <= {{ dbt.dateadd('day', -90, 'as_of_at') }}
                    then 1
                else 0
            end
        ) as orders_prior_90_days,
        sum(
            case
                when ordered_at > {{ dbt.dateadd('day', -365, 'as_of_at') }} then net_amount
                else 0
            end
        ) as revenue_last_365_days
    from orders_as_of
    group by customer_id
),

platforms_ranked as (
    select
        customer_id,
        platform,
        row_number() over (
            partition by customer_id
            order by count(*) desc, max(ordered_at) desc, platform
        ) as platform_rank
    from (
        select
            customer_id,
            coalesce(platform, 'store') as platform,
            ordered_at
        from orders_as_of
    ) as order_platforms
    group by customer_id, platform
),

categories_ranked as (
    select
        orders_as_of.customer_id,
        order_items.category,
        sum(order_items.line_amount) as category_revenue,
        count(distinct orders_as_of.order_id) as category_orders_count,
        row_number() over (
            partition by orders_as_of.customer_id
            order by sum(order_items.line_amount) desc, order_items.category
        ) as category_rank
    from orders_as_of
    inner join order_items
        on orders_as_of.source_name = 'ecom_orders'
            and orders_as_of.order_id = order_items.order_id
    where order_items.category is not null
    group by orders_as_of.customer_id, order_items.category
),

events_summarised as (
    select
        events.customer_id,
        max(events.occurred_at) as last_activity_at,
        sum(
            case
                when events.occurred_at > {{ dbt.dateadd('day', -30, 'reference_time.as_of_at') }}
                    then 1
                else 0
            end
        ) as events_last_30_days,
        sum(
            case
                when events.event_type = 'ticket_complaint'
                    and events.occurred_at
                    > {{ dbt.dateadd('day', -90, 'reference_time.as_of_at') }}
                    then 1
                else 0
            end
        ) as complaints_last_90_days,
        max(case when events.event_type = 'ticket_complaint' then events.occurred_at end)
            as last_complaint_at
    from events
    cross join reference_time
    where events.occurred_at <= reference_time.as_of_at
    group by events.customer_id
),

buyers_scored as (
    select
        customer_id,
        {%- for score, measure in [
            ('r_score', 'last_order_at'), ('f_score', 'orders_count'),
            ('m_score', 'total_revenue'),
        ] %}
            case
                when percent_rank() over (order by {{ measure }}) >= 0.8 then 5
                when percent_rank() over (order by {{ measure }}) >= 0.6 then 4
                when percent_rank() over (order by {{ measure }}) >= 0.4 then 3
                when percent_rank() over (order by {{ measure }}) >= 0.2 then 2
                else 1
            end as {{ score }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from orders_summarised
),

features_joined as (
    select
        customers.customer_id,
        reference_time.as_of_at,
        customers.is_member,
        customers.registered_at,
        {{ dbt.datediff('customers.registered_at', 'reference_time.as_of_at', 'day') }}
            as days_since_registration,
        coalesce(orders_summarised.orders_count, 0) as orders_count,
        coalesce(orders_summarised.online_orders_count, 0) as online_orders_count,
        coalesce(orders_summarised.offline_orders_count, 0) as offline_orders_count,
        cast(coalesce(orders_summarised.total_revenue, 0) as decimal(18, 2)) as total_revenue,
        cast(coalesce(orders_summarised.online_revenue, 0) as decimal(18, 2)) as online_revenue,
        cast(coalesce(orders_summarised.offline_revenue, 0) as decimal(18, 2)) as offline_revenue,
        cast(
            orders_summarised.total_revenue / nullif(orders_summarised.orders_count, 0)
            as decimal(18, 2)
        ) as average_order_value,
        orders_summarised.first_order_at,
        orders_summarised.last_order_at,
        orders_summarised.previous_order_at,
        {{ dbt.datediff('orders_summarised.first_order_at', 'reference_time.as_of_at', 'day') }}
            as days_since_first_order,
        {{ dbt.datediff('orders_summarised.last_order_at', 'reference_time.as_of_at', 'day') }}
            as days_since_last_order,
        {{ dbt.datediff(
            'orders_summarised.previous_order_at', 'orders_summarised.last_order_at', 'day'
        ) }} as days_between_last_orders,
        coalesce(orders_summarised.orders_last_90_days, 0) as orders_last_90_days,
        coalesce(orders_summarised.orders_prior_90_days, 0) as orders_prior_90_days,
        cast(coalesce(orders_summarised.revenue_last_365_days, 0) as decimal(18, 2))
            as revenue_last_365_days,
        cast(
            orders_summarised.discounted_revenue / nullif(orders_summarised.total_revenue, 0)
            as decimal(5, 4)
        ) as discounted_revenue_share,
        case
            when orders_summarised.online_orders_count > orders_summarised.offline_orders_count
                then 'online'
            when orders_summarised.offline_orders_count > orders_summarised.online_orders_count
                then 'offline'
            when orders_summarised.online_revenue >= orders_summarised.offline_revenue
                then 'online'
            when orders_summarised.offline_revenue > orders_summarised.online_revenue
                then 'offline'
        end as preferred_channel,
        platforms_ranked.platform as preferred_platform,
        categories_ranked.category as top_category,
        categories_ranked.category_revenue as top_category_revenue,
        categories_ranked.category_orders_count as top_category_orders_count,
        events_summarised.last_activity_at,
        {{ dbt.datediff('events_summarised.last_activity_at', 'reference_time.as_of_at', 'day') }}
            as days_since_last_activity,
        coalesce(events_summarised.events_last_30_days, 0) as events_last_30_days,
        coalesce(events_summarised.complaints_last_90_days, 0) as complaints_last_90_days,
        events_summarised.last_complaint_at,
        customers.is_wechat_follower,
        customers.is_app_user,
        buyers_scored.r_score,
        buyers_scored.f_score,
        buyers_scored.m_score,
        cast(buyers_scored.r_score as {{ dbt.type_string() }})
        || cast(buyers_scored.f_score as {{ dbt.type_string() }})
        || cast(buyers_scored.m_score as {{ dbt.type_string() }}) as rfm_score
    from customers
    cross join reference_time
    left outer join orders_summarised on customers.customer_id = orders_summarised.customer_id
    left outer join platforms_ranked
        on customers.customer_id = platforms_ranked.customer_id
            and platforms_ranked.platform_rank = 1
    left outer join categories_ranked
        on customers.customer_id = categories_ranked.customer_id
            and categories_ranked.category_rank = 1
    left outer join events_summarised on customers.customer_id = events_summarised.customer_id
    left outer join buyers_scored on customers.customer_id = buyers_scored.customer_id
)

select * from features_joined
