{# Every raw app event once: cleaned, typed, with the reason it is rejected (null if kept). #}
{{ config(meta={'cdp_privacy': {
    'mode': 'erase',
    'keep_columns': ['source_row_id', 'event_id'],
    'identifier_columns': [['device_id', 'device_id'], ['member_id', 'member_id']]
}}) }}

{% set rows_decided %}
with

source as (
    {{ cdp.source_rows(source('raw', 'app_events'),
        ['event_id', 'device_id', 'user_id', 'platform', 'app_version', 'event_name', 'event_ts', 'properties']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('event_id') }} as event_id,
        {{ cdp.clean_text('device_id') }} as device_id,
        {{ cdp.clean_text('user_id') }} as member_id,
        lower({{ cdp.clean_text('platform') }}) as app_platform,
        {{ cdp.clean_text('app_version') }} as app_version,
        lower({{ cdp.clean_text('event_name') }}) as event_name,
        {{ cdp.clean_text('event_ts') }} as event_ts_raw,
        {{ cdp.parse_timestamp_utc('event_ts', 'app_events') }} as occurred_at,
        {{ cdp.clean_text('properties') }} as properties
    from source
),

rows_checked as (
    select
        *,
        case
            when event_id is null then 'missing_key'
            when device_id is null and member_id is null then 'missing_identifier'
            when event_name is null then 'missing_event_name'
            when event_ts_raw is null then 'missing_timestamp'
            when occurred_at is null then 'invalid_timestamp'
            when not {{ cdp.is_timestamp_in_range('occurred_at') }} then 'timestamp_out_of_range'
        end as row_error
    from cleaned
),

rejections_decided as (
    {{ cdp.decide_rejections('rows_checked', ['event_id'],
        'occurred_at desc nulls last, source_row_id asc') }}
)

select * from rejections_decided
{% endset %}

{{ cdp.erase_forgotten_rows(rows_decided) }}
