{#
    A scratch table beside `base_relation`, named `<root>__<suffix>` where root is the
    part of the base name before any `__`: scratch names never chain, and stay within
    PostgreSQL's 63 characters.
#}
{% macro identity_work_relation(base_relation, suffix) -%}
    {{ return(api.Relation.create(
        database=base_relation.database, schema=base_relation.schema,
        identifier=base_relation.identifier.split('__')[0] ~ '__' ~ suffix, type='table'
    )) }}
{%- endmacro %}
