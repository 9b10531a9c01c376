{#
    dbt.listagg on Spark, ordered: dbt-spark's own variant drops the `order by` (it warns
    and concatenates in whatever order the rows arrive), which would make every listed
    value (identity `sources`, audience tag columns) differ from run to run and from the
    other engines. Spark 4 has `listagg ... within group`. Found before dbt-spark's through
    the `dispatch` search order in dbt_project.yml.
#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error('dbt.listagg: limit_num is not supported on Spark') }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
