{#
    The golden record. Grain: one row per customer_id (every customer holding an identifier
    in customer_identifiers). Profile attributes survive per configuration
    (int_customer_attributes_survived, vars survivorship and golden_record_sources);
    member_id is the customer's anchor identifier itself. Lifetime metrics count orders
    that are neither refunded nor cancelled, and assume one currency.
    member_tier: no source carries a tier, so members get the first tier of var
    member_tiers whose min_revenue their lifetime net revenue reaches; non-members none.
#}
{#
    Incremental by customer (delete+insert on customer_id): a run recomputes only the
    customers touched since its last run (max refreshed_at; macro customers_touched_since:
    records resolved again or moved away, identifiers gained or lost; orders, tickets,
    WeChat follows and profile records are identity records too, so a new or changed one
    touches its customer). A touched customer without identifiers now (merged away,
    forgotten) comes out with identifiers_count null and the post-hook deletes the row.
    A change of vars survivorship or member_tiers needs --full-refresh. On Spark a table.
#}
-- depends_on: {{ ref('identity_customer_touches') }}
-- depends_on: {{ ref('identity_customer_registry') }}
-- depends_on: {{ ref('identity_identifier_changes') }}
{%- set incremental = target.type != 'spark' %}
{{ config(
    materialized='incremental' if incremental else 'table',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
    pre_hook=[
        "{{ cdp.refresh_statistics_of([ref('customer_identifiers')]) }}",
        "{{ cdp.refresh_statistics_of([ref('identity_source_records')]) }}",
    ],
    post_hook=["delete from {{ this }} where identifiers_count is null"] if incremental else [],
    indexes=[{'columns': ['customer_id'], 'unique': true}] if target.type == 'postgres' else [],
) }}
{%- set rules = var('survivorship') %}
{%- set identifier_types = [
    'member_card', 'email', 'phone', 'anonymous_id', 'device_id', 'openid', 'unionid',
] %}

with

customer_identifiers as (
    select
        customer_id,
        identifier_type,
        identifier_value,
        first_seen_at,
        last_seen_at
    from {{ ref('customer_identifiers') }}
),
{%- if is_incremental() %}

    {# Every customer's first and last sighting and identifier count (5M identifiers at 1M
        people), compared with the rows kept: a sighting moves with records resolved to
        another customer (decided by a higher-priority identifier), which touches no
        customer. Identifiers joining or leaving are in the registry already. #}
    identifiers_seen as (
        select
            customer_id,
            count(*) as identifiers_count,
            min(first_seen_at) as first_seen_at,
            max(last_seen_at) as last_seen_at
        from customer_identifiers
        group by customer_id
    ),

    identifiers_changed as (
        select coalesce(identifiers_seen.customer_id, kept.customer_id) as customer_id
        from identifiers_seen
        full outer join {{ this }} as kept on identifiers_seen.customer_id = kept.customer_id
        where
            identifiers_seen.customer_id is null
            or kept.customer_id is null
            {%- for column in ['identifiers_count', 'first_seen_at', 'last_seen_at'] %}
                or identifiers_seen.{{ column }} is distinct from kept.{{ column }}
            {%- endfor %}
    ),

    {{ cdp.touched_customers_ctes(
        also='select identifiers_changed.customer_id from identifiers_changed'
    ) }}
{%- endif %}

attributes as (
    select
        customer_id,
        attribute,
        attribute_value
    from {{ ref('int_customer_attributes_survived') }}
    where {{ cdp.is_touched_customer() }}
),

{# identity_source_records holds a row per web and app event (13.5M rows at 1M people):
    each use reads it with its own filter, so no engine keeps a copy of it in between #}
source_records as (
    select
        source_name,
        customer_id
    from {{ ref('identity_source_records') }}
    where {{ cdp.is_touched_customer() }}
),

source_names as (
    select distinct source_name from {{ ref('identity_source_records') }}
),

ticket_records as (
    select
        source_key,
        customer_id
    from {{ ref('identity_source_records') }}
    where source_name = 'service_tickets' and {{ cdp.is_touched_customer() }}
),

wechat_records as (
    select
        source_key,
        customer_id
    from {{ ref('identity_source_records') }}
    where source_name = 'wechat_followers' and {{ cdp.is_touched_customer() }}
),

orders as (
    select
        customer_id,
        channel,
        ordered_at,
        net_amount
    from {{ ref('fct_orders') }}
    where is_revenue and customer_id is not null and {{ cdp.is_touched_customer() }}
),

tickets as (
    select
        ticket_id,
        ticket_category,
        created_at
    from {{ ref('stg_service__tickets') }}
),

wechat_followers as (
    select
        openid,
        is_subscribed
    from {{ ref('stg_wechat__followers') }}
),

identifiers_summarised as (
    select
        customer_id,
        max(case when identifier_type = 'member_id' then identifier_value end) as member_id,
        count(*) as identifiers_count,
        {%- for identifier_type in identifier_types %}
            sum(case when identifier_type = '{{ identifier_type }}' then 1 else 0 end)
                as {{ identifier_type }}_count,
        {%- endfor %}
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from customer_identifiers
    where {{ cdp.is_touched_customer() }}
    group by customer_id
),

attributes_pivoted as (
    select
        {%- for attribute, rule in rules.items() %}
            {%- set value = "max(case when attribute = '" ~ attribute
                ~ "' then attribute_value end)" %}
            {%- if rule.get('type') == 'date' %}
                cast({{ value }} as date) as {{ attribute }},
            {%- elif rule.get('type') == 'timestamp' %}
                cast({{ value }} as {{ dbt.type_timestamp() }}) as {{ attribute }},
            {%- else %}
                {{ value }} as {{ attribute }},
            {%- endif %}
        {%- endfor %}
        customer_id
    from attributes
    group by customer_id
),

{# Which sources hold a customer's records: one bit per source name (few sources, small
    integers), OR-ed per customer in one pass; the combinations of sources that occur are
    few, and only they are spelled out as text. (An ordered listagg per customer is the
    costliest aggregate of this model on DuckDB.) #}
source_bits as (
    select
        source_name,
        cast(power(2, row_number() over (order by source_name) - 1) as bigint) as source_bit
    from source_names
),

source_masks as (
    select
        source_records.customer_id,
        {{ cdp.bit_or_agg('source_bits.source_bit') }} as sources_mask
    from source_records
    inner join source_bits on source_records.source_name = source_bits.source_name
    group by source_records.customer_id
),

source_combinations as (
    select
        source_masks_seen.sources_mask,
        {{ dbt.listagg('source_bits.source_name', "', '", 'order by source_bits.source_name') }}
            as sources,
        count(*) as sources_count,
        max(case when source_bits.source_name = 'app_events' then 1 else 0 end) as has_app_events,
        max(case when source_bits.source_name = 'web_events' then 1 else 0 end) as has_web_events
    from (select distinct sources_mask from source_masks) as source_masks_seen
    inner join source_bits
        on {{ cdp.bitwise_and('source_masks_seen.sources_mask', 'source_bits.source_bit') }} <> 0
    group by source_masks_seen.sources_mask
),

sources_summarised as (
    select
        source_masks.customer_id,
        source_combinations.sources,
        source_combinations.sources_count,
        source_combinations.has_app_events,
        source_combinations.has_web_events
    from source_masks
    inner join source_combinations
        on source_masks.sources_mask = source_combinations.sources_mask
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
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from orders
    group by customer_id
),

tickets_summarised as (
    select
        ticket_records.customer_id,
        count(*) as tickets_count,
        sum(case when tickets.ticket_category = 'complaint' then 1 else 0 end)
            as complaints_count,
        max(case when tickets.ticket_category = 'complaint' then tickets.created_at end)
            as last_complaint_at
    from tickets
    inner join ticket_records on tickets.ticket_id = ticket_records.source_key
    group by ticket_records.customer_id
),

wechat_summarised as (
    select
        wechat_records.customer_id,
        max(case when wechat_followers.is_subscribed then 1 else 0 end) as is_subscribed
    from wechat_followers
    inner join wechat_records on wechat_followers.openid = wechat_records.source_key
    group by wechat_records.customer_id
),

{# The customers written: every customer holding identifiers; in an incremental run every
    touched customer, those without identifiers now with identifiers_count null. #}
customer_keys as (
    {%- if is_incremental() %}
        select customer_id from touched_customers
    {%- else %}
        select customer_id from identifiers_summarised
    {%- endif %}
),

customers_joined as (
    select
        customer_keys.customer_id,
        identifiers_summarised.member_id,
        identifiers_summarised.member_id is not null as is_member,
        {%- for attribute in rules.keys() %}
            attributes_pivoted.{{ attribute }},
            {%- if attribute == 'full_name' %}
                case
                    when {{ dbt.position("' '", 'trim(attributes_pivoted.full_name)') }} > 0
                        then {{ dbt.split_part('trim(attributes_pivoted.full_name)', "' '", 1) }}
                    else attributes_pivoted.full_name
                end as first_name,
            {%- endif %}
        {%- endfor %}
        identifiers_summarised.first_seen_at,
        identifiers_summarised.last_seen_at,
        sources_summarised.sources,
        coalesce(sources_summarised.sources_count, 0) as sources_count,
        identifiers_summarised.identifiers_count,
        {%- for identifier_type in identifier_types %}
            identifiers_summarised.{{ identifier_type }}_count,
        {%- endfor %}
        coalesce(orders_summarised.orders_count, 0) as orders_count,
        coalesce(orders_summarised.online_orders_count, 0) as online_orders_count,
        coalesce(orders_summarised.offline_orders_count, 0) as offline_orders_count,
        cast(coalesce(orders_summarised.total_revenue, 0) as decimal(18, 2)) as total_revenue,
        cast(coalesce(orders_summarised.online_revenue, 0) as decimal(18, 2)) as online_revenue,
        cast(coalesce(orders_summarised.offline_revenue, 0) as decimal(18, 2)) as offline_revenue,
        orders_summarised.first_order_at,
        orders_summarised.last_order_at,
        coalesce(tickets_summarised.tickets_count, 0) as tickets_count,
        coalesce(tickets_summarised.complaints_count, 0) as complaints_count,
        tickets_summarised.last_complaint_at,
        coalesce(wechat_summarised.is_subscribed, 0) = 1 as is_wechat_follower,
        coalesce(sources_summarised.has_app_events, 0) = 1 as is_app_user,
        coalesce(sources_summarised.has_web_events, 0) = 1 as is_web_visitor
    from customer_keys
    left outer join identifiers_summarised
        on customer_keys.customer_id = identifiers_summarised.customer_id
    left outer join attributes_pivoted
        on customer_keys.customer_id = attributes_pivoted.customer_id
    left outer join sources_summarised
        on customer_keys.customer_id = sources_summarised.customer_id
    left outer join orders_summarised
        on customer_keys.customer_id = orders_summarised.customer_id
    left outer join tickets_summarised
        on customer_keys.customer_id = tickets_summarised.customer_id
    left outer join wechat_summarised
        on customer_keys.customer_id = wechat_summarised.customer_id
),

tiers_assigned as (
    select
        *,
        case
            when not is_member then null
            {%- for tier in var('member_tiers') %}
                when total_revenue >= {{ tier.min_revenue }} then '{{ tier.tier }}'
            {%- endfor %}
        end as member_tier,
        {{ cdp.run_started_timestamp() }} as refreshed_at
    from customers_joined
)

select * from tiers_assigned
