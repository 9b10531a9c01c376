{#
    A deterministic id for a raw row that has no usable key: the md5 of all its columns,
    suffixed with its position among exact copies (`-1`, `-2`, ...). Each value enters the
    hash length-prefixed (null as `~`), so distinct rows never hash the same text
    ('x|y','z' vs 'x','y|z'); copies are then found by partitioning on the columns
    themselves, which is cheaper than hashing three times. Copies are identical, so any
    order numbers them alike; the `order by` is there because Spark requires one.
#}
{% macro source_row_id(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- set text = "cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")" -%}
        {%- do parts.append(
            "coalesce(cast(length(" ~ text ~ ") as " ~ dbt.type_string() ~ ") || ':' || "
            ~ text ~ ", '~')"
        ) -%}
    {%- endfor -%}
    {%- set row_hash = dbt.hash(parts | join(" || '|' || ")) -%}
    {{ row_hash }} || '-' || cast(
        row_number() over (
            partition by {{ columns | join(', ') }} order by {{ columns[0] }}
        )
        as {{ dbt.type_string() }}
    )
{%- endmacro %}
