{#
    marts.customer_features for BI, one row per customer. No PII; columns are listed so that
    a column added to the mart is not exposed until it is added here.
#}
{{ config(alias='customer_features') }}

with

source_rows as (
    select
        customer_id,
        as_of_at,
        is_member,
        registered_at,
        days_since_registration,
        orders_count,
        online_orders_count,
        offline_orders_count,
        total_revenue,
        online_revenue,
        offline_revenue,
        average_order_value,
        first_order_at,
        last_order_at,
        previous_order_at,
        days_since_first_order,
        days_since_last_order,
        days_between_last_orders,
        orders_last_90_days,
        orders_prior_90_days,
        revenue_last_365_days,
        discounted_revenue_share,
        preferred_channel,
        preferred_platform,
        top_category,
        top_category_revenue,
        top_category_orders_count,
        last_activity_at,
        days_since_last_activity,
        events_last_30_days,
        complaints_last_90_days,
        last_complaint_at,
        is_wechat_follower,
        is_app_user,
        r_score,
        f_score,
        m_score,
        rfm_score
    from {{ ref('customer_features') }}
)

select * from source_rows
