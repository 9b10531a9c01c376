{#
    The cheap, every-build half of the fct_events check: per source, fct_events holds as
    many events as the sources offer now (what event_stream reads: a web, app or ticket
    record is one event, a WeChat follower one per subscribe and unsubscribe time, an
    order, consent change or sync event one each). Fails with one row per source whose
    counts differ, e.g. rows deleted from a source or a lost incremental window:
    `dbt build --full-refresh -s fct_events+`. Row by row, customer_id included, see
    marts__fct_events_matches_full_refresh (var marts_events_full_refresh_check).
#}
with

offered as (
    select
        'web_events' as source_name,
        count(*) as events_count
    from {{ ref('stg_web__events') }}
    union all
    select
        'app_events' as source_name,
        count(*) as events_count
    from {{ ref('stg_app__events') }}
    union all
    select
        'wechat_followers' as source_name,
        count(subscribed_at) + count(unsubscribed_at) as events_count
    from {{ ref('stg_wechat__followers') }}
    union all
    select
        'service_tickets' as source_name,
        count(*) as events_count
    from {{ ref('stg_service__tickets') }}
    union all
    select
        source_name,
        count(*) as events_count
    from {{ ref('fct_orders') }}
    group by source_name
    union all
    select
        'consent_events' as source_name,
        count(*) as events_count
    from {{ ref('int_consent_events_resolved') }}
    union all
    select
        'sync_events' as source_name,
        count(*) as events_count
    from {{ ref('fct_sync_events') }}
),

loaded as (
    select
        source_name,
        count(*) as events_count
    from {{ ref('fct_events') }}
    group by source_name
),

differences as (
    select
        coalesce(offered.source_name, loaded.source_name) as source_name,
        coalesce(offered.events_count, 0) as offered_events,
        coalesce(loaded.events_count, 0) as loaded_events
    from offered
    full outer join loaded on offered.source_name = loaded.source_name
    where coalesce(offered.events_count, 0) <> coalesce(loaded.events_count, 0)
)

select * from differences
