{# A scratch table beside `base_relation`, named `<base identifier>__<suffix>`. #}
{% macro identity_work_relation(base_relation, suffix) -%}
    {{ return(api.Relation.create(
        database=base_relation.database, schema=base_relation.schema,
        identifier=base_relation.identifier ~ '__' ~ suffix, type='table'
    )) }}
{%- endmacro %}
