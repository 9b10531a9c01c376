with

requests as (
    select * from {{ ref('base_privacy__deletion_requests') }}
    where rejection_reason is null
),

columns_selected as (
    select
        request_id,
        identifier_type,
        identifier_hash,
        requested_at
    from requests
)

select * from columns_selected
