{#
    The filter of a mart kept by customer on `column` (its customer id): in an incremental
    run, only the customers of the CTE touched_customers (macro touched_customers_ctes);
    otherwise every row.
#}
{% macro is_touched_customer(column='customer_id') -%}
    {%- if is_incremental() -%}
        {{ column }} in (select touched_customers.customer_id from touched_customers)
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
