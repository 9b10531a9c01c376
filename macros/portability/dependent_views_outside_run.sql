{#
    PostgreSQL views (and materialized views) that depend on `relation` and that this dbt
    invocation will not rebuild: views of models not selected in the run, and views dbt
    does not manage. Returns a list of `schema.name` strings (empty on other engines and
    when every dependent view is rebuilt later in the run).
#}
{% macro dependent_views_outside_run(relation) -%}
    {{ return(adapter.dispatch('dependent_views_outside_run', 'cdp')(relation)) }}
{%- endmacro %}

{% macro default__dependent_views_outside_run(relation) -%}
    {{ return([]) }}
{%- endmacro %}

{% macro postgres__dependent_views_outside_run(relation) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select distinct
            view_namespace.nspname as view_schema,
            dependent_view.relname as view_name
        from pg_catalog.pg_depend as dependency
        inner join pg_catalog.pg_rewrite as rewrite_rule
            on dependency.objid = rewrite_rule.oid
        inner join pg_catalog.pg_class as dependent_view
            on rewrite_rule.ev_class = dependent_view.oid
        inner join pg_catalog.pg_namespace as view_namespace
            on dependent_view.relnamespace = view_namespace.oid
        where dependency.classid = 'pg_catalog.pg_rewrite'::regclass
            and dependency.refobjid = '{{ relation.include(database=false) }}'::regclass
            and dependent_view.oid <> dependency.refobjid
        order by 1, 2
    {%- endset -%}
    {%- set dependent_views = run_query(query).rows -%}
    {%- if dependent_views | length == 0 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set rebuilt_in_run = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.unique_id in selected_resources -%}
            {%- do rebuilt_in_run.append(
                (node.schema ~ '.' ~ (node.alias or node.name)) | lower) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set outside_run = [] -%}
    {%- for row in dependent_views -%}
        {%- set view_name = row[0] ~ '.' ~ row[1] -%}
        {%- if view_name | lower not in rebuilt_in_run -%}
            {%- do outside_run.append(view_name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(outside_run) }}
{%- endmacro %}
