{#
    The existing relation of model `model_name` (this project), or none: for reading a
    model that runs later in the DAG (its previous build) without ref(), which would make
    a cycle. None at parse time and before the model's first build.
#}
{% macro model_relation(model_name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for node in graph.get('nodes', {}).values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
            and node.name == model_name -%}
            {{ return(adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias
            )) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}
