{# A scratch table beside the model being built, named `<model>__<suffix>`. #}
{% macro identity_work_relation(suffix) -%}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema,
        identifier=this.identifier ~ '__' ~ suffix, type='table'
    )) }}
{%- endmacro %}
