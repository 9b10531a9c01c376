{# Every raw CRM row once: cleaned, typed, with the reason it is rejected (null if kept). #}
{{ config(meta={'cdp_privacy': {
    'mode': 'erase',
    'keep_columns': ['source_row_id'],
    'identifier_columns': [['member_id', 'member_id'], ['member_card', 'member_card_no'], ['email', 'email'], ['phone', 'phone']]
}}) }}

{% set rows_decided %}
with

source as (
    {{ cdp.source_rows(source('raw', 'crm_members'),
        ['member_id', 'member_card_no', 'name', 'email', 'phone', 'gender', 'birthday', 'city', 'registered_at', 'updated_at']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('member_id') }} as member_id,
        {{ cdp.clean_text('member_card_no') }} as member_card_no,
        {{ cdp.clean_text('name') }} as full_name,
        {{ cdp.clean_text('email') }} as email_raw,
        {{ cdp.normalize_email('email') }} as email,
        {{ cdp.clean_text('phone') }} as phone_raw,
        {{ cdp.normalize_phone('phone') }} as phone,
        {{ cdp.normalize_gender('gender') }} as gender,
        {{ cdp.clean_text('birthday') }} as birthday_raw,
        {{ cdp.parse_date('birthday') }} as birth_date_parsed,
        {{ cdp.clean_text('city') }} as city,
        {{ cdp.clean_text('registered_at') }} as registered_at_raw,
        {{ cdp.parse_timestamp_utc('registered_at', 'crm_members') }} as registered_at_parsed,
        {{ cdp.clean_text('updated_at') }} as updated_at_raw,
        {{ cdp.parse_timestamp_utc('updated_at', 'crm_members') }} as updated_at_parsed
    from source
),

ranges_checked as (
    select
        *,
        case
            when birth_date_parsed >= cast('1900-01-01' as date)
                and birth_date_parsed <= {{ dbt.current_timestamp() }}
                then birth_date_parsed
        end as birth_date,
        case
            when {{ cdp.is_timestamp_in_range('registered_at_parsed') }} then registered_at_parsed
        end as registered_at,
        case
            when {{ cdp.is_timestamp_in_range('updated_at_parsed') }} then updated_at_parsed
        end as updated_at,
        case
            when member_id is null then 'missing_key'
        end as row_error
    from cleaned
),

rejections_decided as (
    {{ cdp.decide_rejections('ranges_checked', ['member_id'],
        'updated_at desc nulls last, registered_at desc nulls last, source_row_id asc') }}
)

select * from rejections_decided
{% endset %}

{{ cdp.erase_forgotten_rows(rows_decided) }}
