{# Fails with one row per source whose raw row count differs from staged + rejected rows. #}
{%- set sources = [
    ['crm_members', 'stg_crm__members'],
    ['ecom_orders', 'stg_ecom__orders'],
    ['ecom_order_items', 'stg_ecom__order_items'],
    ['web_events', 'stg_web__events'],
    ['app_events', 'stg_app__events'],
    ['pos_transactions', 'stg_pos__transactions'],
    ['wechat_followers', 'stg_wechat__followers'],
    ['service_tickets', 'stg_service__tickets'],
    ['consent_events', 'stg_consent__events'],
    ['deletion_requests', 'stg_privacy__deletion_requests'],
] -%}
with

{% for source_name, staging_model in sources %}
    {{ source_name }}_reconciled as (
        select
            '{{ source_name }}' as source_name,
            (select count(*) from {{ source('raw', source_name) }}) as raw_rows,
            (select count(*) from {{ ref(staging_model) }}) as staged_rows,
            (
                select count(*) from {{ ref('stg_quarantine') }}
                where source_name = '{{ source_name }}' and is_row_rejected
            ) as rejected_rows
    ),
{% endfor %}

all_reconciled as (
    {% for source_name, _ in sources %}
        select * from {{ source_name }}_reconciled
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from all_reconciled
where raw_rows != staged_rows + rejected_rows
