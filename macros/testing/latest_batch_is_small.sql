{#
    True when the rows carrying the latest value of `batch_column` are under a quarter of
    `model` (at execution only; false while parsing, when nothing is run).
#}
{% macro latest_batch_is_small(model, batch_column) %}
    {%- if not execute %}
        {{ return(false) }}
    {%- endif %}
    {%- set stamps = "(select " ~ batch_column ~ " as stamp from " ~ model ~ ")" %}
    {%- set counts = run_query(
        "select count(*), sum(case when rows_of_model.stamp = latest.stamp then 1 else 0 end)"
        ~ " from " ~ stamps ~ " as rows_of_model"
        ~ " cross join (select max(stamp) as stamp from " ~ stamps ~ " as stamped) as latest"
    ).rows[0] %}
    {{ return(counts[0] > 0 and (counts[1] or 0) * 4 < counts[0]) }}
{% endmacro %}
