{#
    dbt.listagg on DuckDB. Ordered by the measure itself (the project's only use: sorted
    source names, tag names), it is a list sorted afterwards: an ordered aggregate makes
    DuckDB sort every group and run the whole GROUP BY through its slow path (identity
    identifiers at 1M people: 100 s of 130). Nulls are skipped and no value gives null, as
    string_agg does. Any other order: dbt-duckdb's string_agg. Found before dbt-duckdb's
    through the `dispatch` search order in dbt_project.yml.
#}
{% macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set sorted_by_measure = order_by_clause is not none and (
        order_by_clause | lower | replace(' asc', '') | trim) == 'order by ' ~ measure | lower -%}
    {%- if sorted_by_measure and not limit_num -%}
        case
            when count({{ measure }}) > 0
                then array_to_string(
                    list_sort(list({{ measure }}) filter (where {{ measure }} is not null)),
                    {{ delimiter_text }}
                )
        end
    {%- elif limit_num -%}
        list_aggr(
            (array_agg({{ measure }} {{ order_by_clause or '' }}))[1:{{ limit_num }}],
            'string_agg',
            {{ delimiter_text }}
        )
    {%- else -%}
        string_agg({{ measure }}, {{ delimiter_text }} {{ order_by_clause or '' }})
    {%- endif -%}
{%- endmacro %}
