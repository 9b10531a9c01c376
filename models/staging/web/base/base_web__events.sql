{# Every raw web event once: cleaned, typed, with the reason it is rejected (null if kept). #}
{{ config(meta={'cdp_privacy': {
    'mode': 'erase',
    'keep_columns': ['source_row_id', 'event_id'],
    'identifier_columns': [['anonymous_id', 'anonymous_id'], ['member_id', 'member_id']]
}}) }}

{% set rows_decided %}
with

source as (
    {{ cdp.source_rows(source('raw', 'web_events'),
        ['event_id', 'anonymous_id', 'user_id', 'event_name', 'page_url', 'utm_source', 'event_ts', 'properties']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('event_id') }} as event_id,
        {{ cdp.clean_text('anonymous_id') }} as anonymous_id,
        {{ cdp.clean_text('user_id') }} as member_id,
        lower({{ cdp.clean_text('event_name') }}) as event_name,
        {{ cdp.clean_text('page_url') }} as page_url,
        lower({{ cdp.clean_text('utm_source') }}) as utm_source,
        {{ cdp.clean_text('event_ts') }} as event_ts_raw,
        {{ cdp.parse_timestamp_utc('event_ts', 'web_events') }} as occurred_at,
        {{ cdp.clean_text('properties') }} as properties
    from source
),

rows_checked as (
    select
        *,
        case
            when event_id is null then 'missing_key'
            when anonymous_id is null and member_id is null then 'missing_identifier'
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
