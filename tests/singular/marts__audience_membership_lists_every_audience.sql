{#
    Every model carrying meta.cdp_audience feeds audience_membership (and so its snapshot
    and history). Fails with one row per audience model missing from its list.
#}
{%- set missing = [] %}
{%- if execute %}
    {%- set membership = graph.nodes.get('model.cdp.audience_membership') %}
    {%- set listed = membership.depends_on.nodes if membership else [] %}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and 'cdp_audience' in (node.config.meta or {}) %}
        {%- if node.unique_id not in listed %}
            {%- do missing.append(node.name) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

with

audience_models_missing as (
    {%- for model_name in missing %}
    select '{{ model_name }}' as audience_model
    union all
    {%- endfor %}
    select cast(null as {{ dbt.type_string() }}) as audience_model
    where 1 = 0
)

select * from audience_models_missing
