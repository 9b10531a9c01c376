with

followers as (
    select * from {{ ref('base_wechat__followers') }}
    where rejection_reason is null
),

columns_selected as (
    select
        openid,
        unionid,
        phone,
        nickname,
        city,
        subscribed_at,
        unsubscribed_at,
        (
            unsubscribed_at is null
            or (subscribed_at is not null and subscribed_at > unsubscribed_at)
        ) as is_subscribed,
        staged_at
    from followers
)

select * from columns_selected
