{#
    Salted SHA-256 of each customer's email and phone, for joining BI data with other
    hashed lists without exposing the values. Grain: one row per customer. A table, not a
    view: the salt (env CDP_PII_SALT) is in the SQL that builds it, and a view would keep
    that SQL readable in the catalogue.
#}
{{ config(materialized='table', alias='customer_pii_hashes') }}

with

customers as (
    select
        customer_id,
        email,
        phone
    from {{ ref('dim_customers') }}
),

hashes_computed as (
    select
        customer_id,
        {{ cdp.salted_hash('email') }} as email_sha256,
        {{ cdp.salted_hash('phone') }} as phone_sha256
    from customers
)

select * from hashes_computed
