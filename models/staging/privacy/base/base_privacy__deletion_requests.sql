{#
    Every raw deletion request once, with the reason it is rejected (null if kept). The
    identifier is normalised by its type and kept only as its salted hash
    (identifier_hash): downstream of raw a deletion request never holds the identifier.
    A request with an unreadable or implausible requested_at (out of is_timestamp_in_range,
    like every staged timestamp: a year 1 or 9999 time would be written for good into the
    append-only tombstones, and a BC one cannot even be read back by a client) is still
    honoured: requested_at null, the value quarantined. The raw table is optional: without
    it there are no requests.
#}
with

source as (
    {{ cdp.source_rows(cdp.raw_deletion_requests(),
        ['request_id', 'identifier_type', 'identifier_value', 'requested_at']) }}
),

cleaned as (
    select
        source_row_id,
        {{ cdp.clean_text('request_id') }} as request_id,
        lower({{ cdp.clean_text('identifier_type') }}) as identifier_type,
        {{ cdp.clean_text('identifier_value') }} is not null as has_identifier_value,
        {{ cdp.normalize_identifier(
            'lower(' ~ cdp.clean_text('identifier_type') ~ ')', 'identifier_value'
        ) }} as identifier_value,
        {{ cdp.clean_text('requested_at') }} as requested_at_raw,
        {{ cdp.parse_timestamp_utc('requested_at', 'deletion_requests') }} as requested_at_parsed
    from source
),

rows_checked as (
    select
        source_row_id,
        request_id,
        identifier_type,
        {{ cdp.identifier_hash('identifier_type', 'identifier_value') }} as identifier_hash,
        requested_at_raw,
        case
            when {{ cdp.is_timestamp_in_range('requested_at_parsed') }} then requested_at_parsed
        end as requested_at,
        case
            when request_id is null then 'missing_key'
            when identifier_type is null
                or identifier_type not in (
                    'email', 'phone', 'member_id', 'member_card', 'openid', 'unionid',
                    'device_id', 'anonymous_id'
                )
                then 'invalid_identifier_type'
            when not has_identifier_value then 'missing_identifier'
            when identifier_value is null then 'invalid_identifier'
        end as row_error
    from cleaned
),

rejections_decided as (
    {{ cdp.decide_rejections('rows_checked', ['request_id', 'identifier_hash'],
        'requested_at asc nulls last, source_row_id asc') }}
)

select * from rejections_decided
