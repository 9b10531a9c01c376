{#
    The salted SHA-256 that stands for an identifier once it is forgotten:
    sha256(salt || ':' || type || ':' || value), salt from env var CDP_PII_SALT (see
    salted_hash). `type_expression` is SQL (a column, or a quoted literal such as
    "'email'"). Python computes the same (orchestration.syncs.forget.identifier_hash).
#}
{% macro identifier_hash(type_expression, value_expression) -%}
    {{ cdp.salted_hash(type_expression ~ " || ':' || " ~ value_expression) }}
{%- endmacro %}
