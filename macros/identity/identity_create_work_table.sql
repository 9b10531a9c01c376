{#
    Replace a scratch table with the result of `sql` and refresh its planner statistics
    (PostgreSQL plans freshly created tables badly without ANALYZE).
#}
{% macro identity_create_work_table(relation, sql) -%}
    {% do adapter.drop_relation(relation) %}
    {% do run_query('create table ' ~ relation ~ ' as ' ~ sql) %}
    {% do cdp.analyze_relation(relation) %}
{%- endmacro %}
