{#
    Every identifier seen on every staged record (consent events are not evidence of
    identity and are left out). Grain: one row per source record and identifier.

    Incremental by record (delete+insert on source_name, source_key): a run reads only the
    records staged (staged_at) after the latest staged_at it holds, and replaces every row
    of each such record, a record that lost an identifier included (each record read also
    yields a marker row without identifier, removed by the post-hook once it has served as
    a delete key). blocklist_version (a hash of seed identity_blocklist) tells a run the
    blocklist changed since rows were flagged: then every record is read again.
    What only --full-refresh fixes: a change to var identity_type_priority or to the
    identifier columns read per source. On Spark (parquet tables cannot delete rows) a table.
#}
{%- set type_rows = [] %}
{%- for identifier_type in var('identity_type_priority') %}
    {%- do type_rows.append("select '" ~ identifier_type ~ "' as identifier_type") %}
{%- endfor %}
{%- set incremental = target.type != 'spark' %}

{{ config(
    materialized='incremental' if incremental else 'table',
    incremental_strategy='delete+insert',
    unique_key=['source_name', 'source_key'],
    on_schema_change='fail',
    post_hook=["delete from {{ this }} where identifier_type is null"] if incremental else [],
    indexes=[
        {'columns': ['source_name', 'source_key']},
        {'columns': ['node_id']},
    ] if target.type == 'postgres' else [],
) }}
{%- set staged_since = '(select staged_since.staged_at from staged_since)'
    if is_incremental() else none %}

with

identifier_types as (
    {{ type_rows | join(' union all ') }}
),

blocklist as (
    {#- one row per identifier type and blocked value: a `*` row (every type) is spelled out
        for each type of var identity_type_priority, so one equi-join flags occurrences #}
    select distinct
        identifier_types.identifier_type,
        lower(blocked.identifier_value) as identifier_value
    from {{ ref('identity_blocklist') }} as blocked
    inner join identifier_types
        on blocked.identifier_type in (identifier_types.identifier_type, '*')
),

blocklist_version as (
    select
        coalesce({{ cdp.hash_to_bigint(dbt.listagg(
            "identifier_type || ':' || identifier_value", "'|'",
            "order by identifier_type || ':' || identifier_value"
        )) }}, 0) as blocklist_version
    from blocklist
),
{%- if is_incremental() %}

    held as (
        select
            max(staged_at) as staged_at,
            min(blocklist_version) as lowest_version,
            max(blocklist_version) as highest_version
        from {{ this }}
    ),

    staged_since as (
        {#- the latest record stamp held; every record again when the blocklist changed
            (or nothing is held) #}
        select
            case
                when held.lowest_version = current_version.blocklist_version
                    and held.highest_version = current_version.blocklist_version
                    then held.staged_at
                else cast('1900-01-01' as {{ dbt.type_timestamp() }})
            end as staged_at
        from held
        cross join blocklist_version as current_version
    ),
{%- endif %}

occurrences_unioned as (
    {{ cdp.identity_occurrences(ref('stg_crm__members'), 'crm_members', 'member_id',
        'coalesce(updated_at, registered_at)',
        [['member_id', 'member_id'], ['member_card', 'member_card_no'], ['email', 'email'],
         ['phone', 'phone']],
        staged_since=staged_since) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_ecom__orders'), 'ecom_orders', 'order_id',
        'ordered_at',
        [['member_id', 'member_id'], ['email', 'buyer_email'], ['phone', 'buyer_phone']],
        staged_since=staged_since) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_web__events'), 'web_events', 'event_id',
        'occurred_at', [['anonymous_id', 'anonymous_id'], ['member_id', 'member_id']],
        staged_since=staged_since) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_app__events'), 'app_events', 'event_id',
        'occurred_at', [['device_id', 'device_id'], ['member_id', 'member_id']],
        staged_since=staged_since) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_pos__transactions'), 'pos_transactions',
        'transaction_id', 'transacted_at',
        [['member_card', 'member_card_no'], ['phone', 'phone']],
        staged_since=staged_since) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_wechat__followers'), 'wechat_followers', 'openid',
        'coalesce(subscribed_at, unsubscribed_at)',
        [['openid', 'openid'], ['unionid', 'unionid'], ['phone', 'phone']],
        staged_since=staged_since) }}
    union all
    {{ cdp.identity_occurrences(ref('stg_service__tickets'), 'service_tickets', 'ticket_id',
        'created_at', [['member_id', 'member_id'], ['phone', 'phone'], ['email', 'email']],
        staged_since=staged_since) }}
),

occurrences_flagged as (
    select
        occurrences.source_name,
        occurrences.source_key,
        occurrences.seen_at,
        occurrences.identifier_type,
        occurrences.identifier_value,
        {{ cdp.hash_to_bigint(
            "occurrences.identifier_type || ':' || occurrences.identifier_value"
        ) }} as node_id,
        blocked.identifier_value is not null as is_blocklisted,
        occurrences.staged_at,
        blocklist_version.blocklist_version
    from occurrences_unioned as occurrences
    cross join blocklist_version
    left outer join blocklist as blocked
        on lower(occurrences.identifier_value) = blocked.identifier_value
            and occurrences.identifier_type = blocked.identifier_type
)

select * from occurrences_flagged
