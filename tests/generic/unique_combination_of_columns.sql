{#
    Fails for every combination of `combination_of_columns` that appears more than once
    (the portable equivalent of dbt_utils.unique_combination_of_columns).

    batch_column (optional): the column an incremental model stamps the rows a run writes
    with (its run's start, the same on every row of that run: staged_at, resolved_at,
    processed_at). When the latest stamp's rows are under a quarter of the table, only the
    combinations of those rows are checked, against every row: a duplicate a run can make
    (two rows of its batch, or a batch row beside an older row it should have replaced)
    has a row in the batch, and older rows were checked by the runs that wrote them; a
    hash join of the batch's keys instead of grouping the whole table. A full build
    stamps every row alike, so it checks everything; so does a table whose latest batch
    is large. Rows with a null in a key column are left to not_null in that form.
#}
{% test unique_combination_of_columns(model, combination_of_columns, batch_column=none) %}
    {%- set keys = combination_of_columns | join(', ') %}
    {%- if batch_column is not none and cdp.latest_batch_is_small(model, batch_column) %}
        select
            {%- for column in combination_of_columns %}
            all_rows.{{ column }},
            {%- endfor %}
            count(*) as occurrences
        from (select * from {{ model }}) as all_rows
        inner join (
            select distinct {{ keys }}
            from (select * from {{ model }}) as stamped
            where {{ batch_column }} = (
                select max({{ batch_column }}) from (select * from {{ model }}) as latest
            )
        ) as batch_keys
            on
            {%- for column in combination_of_columns %}
            {% if not loop.first %}and {% endif %}all_rows.{{ column }} = batch_keys.{{ column }}
            {%- endfor %}
        group by
            {%- for column in combination_of_columns %}
            all_rows.{{ column }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        having count(*) > 1
    {%- else %}
        select
            {{ keys }},
            count(*) as occurrences
        from {{ model }}
        group by {{ keys }}
        having count(*) > 1
    {%- endif %}
{% endtest %}
