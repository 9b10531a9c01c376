{#
    Every customer event from every source, resolved to today's customer: the definition
    of fct_events. Returns a full query, one row per event.

    since: {source_name: SQL timestamp expression}; a source listed here contributes only
        events at or after it (each source branch filters its own rows, before the identity
        join, so a small window stays small on every engine). Empty: all events.
    loaded: the relation already holding events (fct_events itself on an incremental run);
        a source listed in `since` then also contributes its older events not in `loaded`
        yet (rows that arrived late, after their window had passed).
    staged_since: when `loaded` last took events (SQL timestamp). Given, the staged sources
        (web, app, WeChat, service tickets) find those older events by staged_at, with a
        filter on their own rows; the others (orders, consent, sync events) by an
        anti-join with `loaded` (macros/marts/event_window.sql).

    event_id is `<source_name>:<record key>` (WeChat adds `:subscribe` / `:unsubscribe`,
    one record giving two events), so ids from different sources never collide. Records of
    the identity sources get their customer in one join with identity_source_records;
    orders, consent and sync events arrive resolved.
#}
{% macro event_stream(since={}, loaded=none, staged_since=none) -%}
    with

    web_events as (
        select
            event_id,
            event_name,
            page_url,
            occurred_at,
            staged_at
        from {{ ref('stg_web__events') }}
    ),

    app_events as (
        select
            event_id,
            event_name,
            app_platform,
            occurred_at,
            staged_at
        from {{ ref('stg_app__events') }}
    ),

    wechat_followers as (
        select
            openid,
            subscribed_at,
            unsubscribed_at,
            staged_at
        from {{ ref('stg_wechat__followers') }}
    ),

    service_tickets as (
        select
            ticket_id,
            ticket_channel,
            ticket_category,
            created_at,
            staged_at
        from {{ ref('stg_service__tickets') }}
    ),

    orders as (
        select
            order_id,
            source_name,
            channel,
            customer_id,
            platform,
            store_id,
            ordered_at,
            is_revenue,
            net_amount
        from {{ ref('fct_orders') }}
    ),

    consent_events as (
        select
            consent_event_id,
            customer_id,
            consent_channel,
            purpose,
            consent_status,
            occurred_at
        from {{ ref('int_consent_events_resolved') }}
    ),

    sync_events as (
        select
            event_id,
            customer_id,
            event_type,
            audience,
            destination,
            occurred_at
        from {{ ref('fct_sync_events') }}
    ),

    source_records as (
        select
            {#- one composite join key: PostgreSQL may otherwise merge-join a union on
                source_name alone #}
            source_name || ':' || source_key as record_key,
            customer_id
        from {{ ref('identity_source_records') }}
        where source_name in ('web_events', 'app_events', 'wechat_followers', 'service_tickets')
    ),

    record_events_unioned as (
        select
            'web_events' as source_name,
            event_id as source_key,
            'web_events:' || event_id as event_id,
            event_name as event_type,
            'web' as channel,
            occurred_at,
            page_url as event_context
        from web_events
        where {{ cdp.event_window(
            since, 'web_events', 'occurred_at', "'web_events:' || web_events.event_id", loaded,
            staged_at='web_events.staged_at', staged_since=staged_since
        ) }}

        union all

        select
            'app_events' as source_name,
            event_id as source_key,
            'app_events:' || event_id as event_id,
            event_name as event_type,
            'app' as channel,
            occurred_at,
            app_platform as event_context
        from app_events
        where {{ cdp.event_window(
            since, 'app_events', 'occurred_at', "'app_events:' || app_events.event_id", loaded,
            staged_at='app_events.staged_at', staged_since=staged_since
        ) }}

        union all

        select
            'wechat_followers' as source_name,
            openid as source_key,
            'wechat_followers:' || openid || ':subscribe' as event_id,
            'wechat_subscribe' as event_type,
            'wechat' as channel,
            subscribed_at as occurred_at,
            cast(null as {{ dbt.type_string() }}) as event_context
        from wechat_followers
        where subscribed_at is not null
            and {{ cdp.event_window(
                since, 'wechat_followers', 'subscribed_at',
                "'wechat_followers:' || wechat_followers.openid || ':subscribe'", loaded,
                staged_at='wechat_followers.staged_at', staged_since=staged_since
            ) }}

        union all

        select
            'wechat_followers' as source_name,
            openid as source_key,
            'wechat_followers:' || openid || ':unsubscribe' as event_id,
            'wechat_unsubscribe' as event_type,
            'wechat' as channel,
            unsubscribed_at as occurred_at,
            cast(null as {{ dbt.type_string() }}) as event_context
        from wechat_followers
        where unsubscribed_at is not null
            and {{ cdp.event_window(
                since, 'wechat_followers', 'unsubscribed_at',
                "'wechat_followers:' || wechat_followers.openid || ':unsubscribe'", loaded,
                staged_at='wechat_followers.staged_at', staged_since=staged_since
            ) }}

        union all

        select
            'service_tickets' as source_name,
            ticket_id as source_key,
            'service_tickets:' || ticket_id as event_id,
            'ticket_' || coalesce(ticket_category, 'other') as event_type,
            'service' as channel,
            created_at as occurred_at,
            ticket_channel as event_context
        from service_tickets
        where {{ cdp.event_window(
            since, 'service_tickets', 'created_at',
            "'service_tickets:' || service_tickets.ticket_id", loaded,
            staged_at='service_tickets.staged_at', staged_since=staged_since
        ) }}
    ),

    record_events_resolved as (
        select
            record_events_unioned.event_id,
            source_records.customer_id,
            record_events_unioned.event_type,
            record_events_unioned.channel,
            record_events_unioned.source_name,
            record_events_unioned.source_key,
            record_events_unioned.occurred_at,
            cast(null as decimal(18, 2)) as revenue,
            record_events_unioned.event_context
        from record_events_unioned
        left outer join source_records
            on record_events_unioned.source_name || ':' || record_events_unioned.source_key
                = source_records.record_key
    ),

    order_events as (
        select
            source_name || ':' || order_id as event_id,
            customer_id,
            case when channel = 'online' then 'order_placed' else 'pos_purchase' end as event_type,
            case when channel = 'online' then 'ecommerce' else 'store' end as channel,
            source_name,
            order_id as source_key,
            ordered_at as occurred_at,
            case
                when is_revenue then net_amount else cast(0 as decimal(18, 2))
            end as revenue,
            coalesce(platform, store_id) as event_context
        from orders
        where (
            source_name = 'ecom_orders'
            and {{ cdp.event_window(
                since, 'ecom_orders', 'ordered_at', "'ecom_orders:' || orders.order_id", loaded
            ) }}
        ) or (
            source_name = 'pos_transactions'
            and {{ cdp.event_window(
                since, 'pos_transactions', 'ordered_at', "'pos_transactions:' || orders.order_id",
                loaded
            ) }}
        )
    ),

    consent_change_events as (
        select
            'consent_events:' || consent_event_id as event_id,
            customer_id,
            'consent_' || consent_status as event_type,
            'consent' as channel,
            'consent_events' as source_name,
            consent_event_id as source_key,
            occurred_at,
            cast(null as decimal(18, 2)) as revenue,
            consent_channel || ':' || purpose as event_context
        from consent_events
        where {{ cdp.event_window(
            since, 'consent_events', 'occurred_at',
            "'consent_events:' || consent_events.consent_event_id", loaded
        ) }}
    ),

    sync_loop_back_events as (
        select
            'sync_events:' || event_id as event_id,
            customer_id,
            event_type,
            'activation' as channel,
            'sync_events' as source_name,
            event_id as source_key,
            occurred_at,
            cast(null as decimal(18, 2)) as revenue,
            audience || ':' || destination as event_context
        from sync_events
        where {{ cdp.event_window(
            since, 'sync_events', 'occurred_at', "'sync_events:' || sync_events.event_id", loaded
        ) }}
    ),

    events_unioned as (
        select * from record_events_resolved
        union all
        select * from order_events
        union all
        select * from consent_change_events
        union all
        select * from sync_loop_back_events
    )

    select * from events_unioned
{%- endmacro %}
