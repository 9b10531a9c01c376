{# Every raw service ticket once: cleaned, typed, with the reason it is rejected. #}
{{ config(meta={'cdp_privacy': {
    'mode': 'erase',
    'keep_columns': ['source_row_id', 'ticket_id'],
    'identifier_columns': [['member_id', 'member_id'], ['phone', 'phone'], ['email', 'email']]
}}) }}

{% set rows_decided %}
with

source as (
    {{ cdp.source_rows(source('raw', 'service_tickets'),
        ['ticket_id', 'member_id', 'phone', 'email', 'channel', 'category', 'created_at', 'resolved_at', 'satisfaction']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('ticket_id') }} as ticket_id,
        {{ cdp.clean_text('member_id') }} as member_id,
        {{ cdp.clean_text('phone') }} as phone_raw,
        {{ cdp.normalize_phone('phone') }} as phone,
        {{ cdp.clean_text('email') }} as email_raw,
        {{ cdp.normalize_email('email') }} as email,
        lower({{ cdp.clean_text('channel') }}) as ticket_channel,
        lower({{ cdp.clean_text('category') }}) as ticket_category,
        {{ cdp.clean_text('created_at') }} as created_at_raw,
        {{ cdp.parse_timestamp_utc('created_at', 'service_tickets') }} as created_at,
        {{ cdp.clean_text('resolved_at') }} as resolved_at_raw,
        {{ cdp.parse_timestamp_utc('resolved_at', 'service_tickets') }} as resolved_at_parsed,
        {{ cdp.clean_text('satisfaction') }} as satisfaction_raw,
        {{ cdp.parse_integer('satisfaction') }} as satisfaction_parsed
    from source
),

rows_checked as (
    select
        *,
        case
            when {{ cdp.is_timestamp_in_range('resolved_at_parsed') }}
                and resolved_at_parsed >= created_at
                then resolved_at_parsed
        end as resolved_at,
        case
            when satisfaction_parsed between 1 and 5 then satisfaction_parsed
        end as satisfaction_score,
        case
            when ticket_id is null then 'missing_key'
            when created_at_raw is null then 'missing_timestamp'
            when created_at is null then 'invalid_timestamp'
            when not {{ cdp.is_timestamp_in_range('created_at') }} then 'timestamp_out_of_range'
        end as row_error
    from cleaned
),

rejections_decided as (
    {{ cdp.decide_rejections('rows_checked', ['ticket_id'],
        'resolved_at desc nulls last, created_at desc, source_row_id asc') }}
)

select * from rejections_decided
{% endset %}

{{ cdp.erase_forgotten_rows(rows_decided) }}
