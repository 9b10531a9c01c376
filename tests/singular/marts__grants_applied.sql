{#
    PostgreSQL: role cdp_bi_reader can read every relation of the bi models, and
    cdp_analyst every marts, audience and snapshot relation (post-hook cdp.grant_select).
    Fails with one row per relation a role cannot read. Nothing to check elsewhere. The
    depends_on lines make it run after the relations it checks.
#}
-- depends_on: {{ ref('bi_audience_membership_history') }}
-- depends_on: {{ ref('bi_cohort_retention') }}
-- depends_on: {{ ref('bi_conversion_funnel') }}
-- depends_on: {{ ref('bi_customer_consent') }}
-- depends_on: {{ ref('bi_customer_features') }}
-- depends_on: {{ ref('bi_customer_pii_hashes') }}
-- depends_on: {{ ref('bi_customer_tags') }}
-- depends_on: {{ ref('bi_daily_active_customers') }}
-- depends_on: {{ ref('bi_dim_customers') }}
-- depends_on: {{ ref('bi_fct_events') }}
-- depends_on: {{ ref('bi_fct_orders') }}
-- depends_on: {{ ref('customer_tag_definitions') }}
-- depends_on: {{ ref('dim_customers_snapshot') }}
-- depends_on: {{ ref('customer_tags_snapshot') }}
{%- set checks = [] %}
{%- if execute and target.type == 'postgres' %}
    {%- for node in graph.nodes.values()
        if node.resource_type in ['model', 'snapshot']
        and node.package_name == project_name
        and node.config.materialized != 'ephemeral'
        and node.schema in ['bi', 'marts', 'intermediate', 'audiences', 'snapshots'] %}
        {%- do checks.append({
            'relation': node.schema ~ '.' ~ (node.alias or node.name),
            'role': 'cdp_bi_reader' if node.schema == 'bi' else 'cdp_analyst',
        }) %}
    {%- endfor %}
{%- endif %}

with

expected_grants as (
    {%- for check in checks %}
    select '{{ check.relation }}' as relation_name, '{{ check.role }}' as role_name
    union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as relation_name,
        cast(null as {{ dbt.type_string() }}) as role_name
    where 1 = 0
),

missing_grants as (
    select
        relation_name,
        role_name
    from expected_grants
    {%- if target.type == 'postgres' %}
    where not has_table_privilege(role_name, relation_name, 'select')
        or not has_schema_privilege(role_name, split_part(relation_name, '.', 1), 'usage')
    {%- endif %}
)

select * from missing_grants
