{#
    Daily active customers by channel. Grain: one row per activity date and channel, plus
    an `all` row per date (a customer active on two channels counts once there). Active =
    any customer event (web, app, ecommerce, store, wechat, service); consent changes and
    sync loop-back events are not customer activity. One pass over fct_events collapses
    it to one row per date, channel and customer; both counts are then plain counts of
    those rows (no count(distinct) over the events).
#}
with

events as (
    select
        customer_id,
        channel,
        event_date,
        revenue
    from {{ ref('fct_events') }}
    where customer_id is not null
        and channel not in ('consent', 'activation')
),

customer_channel_days as (
    select
        event_date,
        channel,
        customer_id,
        count(*) as events_count,
        sum(revenue) as revenue
    from events
    group by event_date, channel, customer_id
),

channel_days as (
    select
        event_date as activity_date,
        channel,
        count(*) as active_customers,
        cast(sum(events_count) as bigint) as events_count,
        sum(revenue) as revenue
    from customer_channel_days
    group by event_date, channel
),

customers_per_day as (
    select
        event_date as activity_date,
        count(*) as active_customers
    from (
        select
            event_date,
            customer_id
        from customer_channel_days
        group by event_date, customer_id
    ) as customer_days
    group by event_date
),

day_totals as (
    select
        activity_date,
        cast(sum(events_count) as bigint) as events_count,
        sum(revenue) as revenue
    from channel_days
    group by activity_date
),

all_channel_days as (
    select
        customers_per_day.activity_date,
        'all' as channel,
        customers_per_day.active_customers,
        day_totals.events_count,
        day_totals.revenue
    from customers_per_day
    inner join day_totals on customers_per_day.activity_date = day_totals.activity_date
),

activity_counted as (
    select
        activity_date,
        channel,
        active_customers,
        events_count,
        coalesce(revenue, 0) as revenue
    from channel_days
    union all
    select
        activity_date,
        channel,
        active_customers,
        events_count,
        coalesce(revenue, 0) as revenue
    from all_channel_days
)

select * from activity_counted
