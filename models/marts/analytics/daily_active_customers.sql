{#
    Daily active customers by channel. Grain: one row per activity date and channel, plus
    an `all` row per date (a customer active on two channels counts once there). Active =
    any customer event (web, app, ecommerce, store, wechat, service); consent changes and
    sync loop-back events are not customer activity. One pass over fct_events.
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

activity_counted as (
    select
        event_date as activity_date,
        case when grouping(channel) = 1 then 'all' else channel end as channel,
        count(distinct customer_id) as active_customers,
        count(*) as events_count,
        coalesce(sum(revenue), 0) as revenue
    from events
    {#- = grouping sets ((event_date, channel), (event_date)), which sqlfluff's duckdb
        dialect does not parse #}
    group by event_date, rollup(channel)
)

select * from activity_counted
