{#
    Pre-hook: make sure the upstream tables a model joins have planner statistics. On
    PostgreSQL a table dbt has just (re)created has none until autovacuum analyzes it,
    and plans built on default estimates (200 distinct customers) can turn a join of a
    million rows into a nested loop. Analyzes each relation that has never been analyzed;
    a no-op when statistics exist and on other engines.
#}
{% macro refresh_statistics_of(relations) -%}
    {{ return(adapter.dispatch('refresh_statistics_of', 'cdp')(relations)) }}
{%- endmacro %}

{% macro default__refresh_statistics_of(relations) -%}
{%- endmacro %}

{% macro postgres__refresh_statistics_of(relations) -%}
    {%- for relation in relations %}
    do $stats$
    begin
        if exists (
            select 1 from pg_stat_user_tables
            where schemaname = '{{ relation.schema }}'
                and relname = '{{ relation.identifier }}'
                and last_analyze is null
                and last_autoanalyze is null
        ) then
            execute 'analyze {{ relation.include(database=false) }}';
        end if;
    end
    $stats$;
    {%- endfor %}
{%- endmacro %}
