{#
    A raw source table to select from, or, when the loader has not created it (an optional
    table of the raw contract such as deletion_requests), an empty relation with its
    columns as text, so the project still builds.
#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute or adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is not none -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set empty_columns = [] -%}
    {%- for column in columns -%}
        {%- do empty_columns.append('cast(null as ' ~ dbt.type_string() ~ ') as ' ~ column) -%}
    {%- endfor -%}
    {{ return('(select ' ~ empty_columns | join(', ') ~ ' where 1 = 0)') }}
{%- endmacro %}
