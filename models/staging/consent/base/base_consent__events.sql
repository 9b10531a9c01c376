{#
    Every raw consent event once: cleaned, typed, with the reason it is rejected. The
    identifier is normalised by its type; an event whose identifier is unusable cannot be
    attributed to anyone and is rejected.
#}
{{ config(meta={'cdp_privacy': {
    'mode': 'erase',
    'keep_columns': ['source_row_id', 'consent_event_id'],
    'identifier_pairs': [['identifier_type', 'identifier_value']]
}}) }}

{% set rows_decided %}
with

source as (
    {{ cdp.source_rows(source('raw', 'consent_events'),
        ['consent_event_id', 'identifier_type', 'identifier_value', 'channel', 'purpose', 'status', 'event_ts', 'source']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('consent_event_id') }} as consent_event_id,
        lower({{ cdp.clean_text('identifier_type') }}) as identifier_type,
        {{ cdp.clean_text('identifier_value') }} as identifier_value_raw,
        lower({{ cdp.clean_text('channel') }}) as consent_channel,
        lower(coalesce({{ cdp.clean_text('purpose') }}, 'marketing')) as purpose,
        lower({{ cdp.clean_text('status') }}) as consent_status,
        {{ cdp.clean_text('event_ts') }} as event_ts_raw,
        {{ cdp.parse_timestamp_utc('event_ts', 'consent_events') }} as occurred_at,
        {{ cdp.clean_text('source') }} as consent_source
    from source
),

identifiers_normalized as (
    select
        *,
        case identifier_type
            when 'email' then {{ cdp.normalize_email('identifier_value_raw') }}
            when 'phone' then {{ cdp.normalize_phone('identifier_value_raw') }}
            else identifier_value_raw
        end as identifier_value
    from cleaned
),

rows_checked as (
    select
        *,
        case
            when consent_event_id is null then 'missing_key'
            when identifier_type is null
                or identifier_type not in (
                    'email', 'phone', 'member_id', 'member_card', 'openid', 'unionid',
                    'device_id', 'anonymous_id'
                )
                then 'invalid_identifier_type'
            when identifier_value_raw is null then 'missing_identifier'
            when identifier_value is null then 'invalid_identifier'
            when consent_channel is null then 'missing_channel'
            when consent_status is null or consent_status not in ('granted', 'revoked')
                then 'invalid_status'
            when event_ts_raw is null then 'missing_timestamp'
            when occurred_at is null then 'invalid_timestamp'
            when not {{ cdp.is_timestamp_in_range('occurred_at') }} then 'timestamp_out_of_range'
        end as row_error
    from identifiers_normalized
),

rejections_decided as (
    {{ cdp.decide_rejections('rows_checked', ['consent_event_id'],
        'occurred_at desc nulls last, source_row_id asc') }}
)

select * from rejections_decided
{% endset %}

{{ cdp.erase_forgotten_rows(rows_decided) }}
