{#
    dim_customers for BI: PII masked (email z***@example.com, phone 138****8000, name
    initial only, birth year only) with salted hashes to join on. Grain: one row per
    customer.
#}
{{ config(alias='dim_customers') }}

with

customers as (
    select * from {{ ref('dim_customers') }}
),

pii_hashes as (
    select
        customer_id,
        email_sha256,
        phone_sha256
    from {{ ref('bi_customer_pii_hashes') }}
),

customers_masked as (
    select
        customers.customer_id,
        customers.is_member,
        {{ cdp.mask_name('customers.full_name') }} as name_initial,
        {{ cdp.mask_email('customers.email') }} as email_masked,
        {{ cdp.mask_phone('customers.phone') }} as phone_masked,
        pii_hashes.email_sha256,
        pii_hashes.phone_sha256,
        customers.gender,
        cast(date_part('year', customers.birth_date) as integer) as birth_year,
        customers.city,
        customers.registered_at,
        customers.member_tier,
        customers.first_seen_at,
        customers.last_seen_at,
        customers.sources,
        customers.sources_count,
        customers.identifiers_count,
        customers.orders_count,
        customers.online_orders_count,
        customers.offline_orders_count,
        customers.total_revenue,
        customers.online_revenue,
        customers.offline_revenue,
        customers.first_order_at,
        customers.last_order_at,
        customers.tickets_count,
        customers.complaints_count,
        customers.last_complaint_at,
        customers.is_wechat_follower,
        customers.is_app_user,
        customers.is_web_visitor
    from customers
    left outer join pii_hashes on customers.customer_id = pii_hashes.customer_id
)

select * from customers_masked
