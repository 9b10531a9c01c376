{#
    The two CTEs that open an incremental run of a mart kept by customer (a model with a
    refreshed_at column): last_run (max refreshed_at of {{ this }}, the model's last run)
    and touched_customers (customer_id, not null: macro customers_touched_since, plus the
    select `also` when given, which may read last_run.refreshed_at). Renders the two
    definitions, each followed by a comma.
#}
{#
-- sqlfluff:exclude_rules:layout.indent
    For sqlfluff (which reads the line above): the macro renders CTE definitions, not a
    statement, so its lines have no statement to be indented against.
#}
{% macro touched_customers_ctes(also=none) -%}
    last_run as (
        select
            coalesce(
                max(refreshed_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})
            ) as refreshed_at
        from {{ this }}
    ),

    touched_customers as (
        select touched.customer_id
        from (
            {{ cdp.customers_touched_since('(select last_run.refreshed_at from last_run)', this) }}
            {%- if also %}
            union
            {{ also }}
            {%- endif %}
        ) as touched
        where touched.customer_id is not null
    ),
{%- endmacro %}
