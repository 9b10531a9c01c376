{#
    Golden-record survivorship compiled from configuration: for each attribute, the values
    offered by its candidate sources compete under the attribute's rule and one survives
    per customer. Returns a full select (one row per customer and attribute).

    sources: {source_name: {model, key, seen_at, columns: {attribute: column}}}; the
        record key joins identity_source_records to find each record's customer.
    rules: {attribute: {sources: [...in priority order], rule, identifier_type?, ignore?}}
        rule is priority_then_recent, most_recent or most_frequent (see dbt_project.yml).
    customers: optional, the name of a relation or CTE with a customer_id column: only
        those customers' values (an incremental run); none: every customer.
    Values compete as text; dim_customers casts them back (`type` in the rule).
#}
{#
-- sqlfluff:exclude_rules:layout.indent
    For sqlfluff (which reads the line above): the SQL of this macro is text to it, so it
    would indent the Jinja tags by Jinja nesting alone, against the SQL's indentation.
#}
{% macro survive_attributes(sources, rules, customers=none) -%}
    {%- set known_rules = ['priority_then_recent', 'most_recent', 'most_frequent'] -%}
    {%- set used = {} -%}
    {%- for attribute, rule in rules.items() -%}
        {%- if rule.rule not in known_rules -%}
            {{ exceptions.raise_compiler_error(
                "var survivorship." ~ attribute ~ ".rule: expected one of "
                ~ known_rules | join(', ') ~ ", got " ~ rule.rule) }}
        {%- endif -%}
        {%- for source_name in rule.sources -%}
            {%- if source_name not in sources
                or attribute not in sources[source_name].get('columns', {}) -%}
                {{ exceptions.raise_compiler_error(
                    "var survivorship." ~ attribute ~ ".sources: " ~ source_name
                    ~ " offers no `" ~ attribute ~ "` (add it to var golden_record_sources."
                    ~ source_name ~ ".columns)") }}
            {%- endif -%}
            {%- do used.setdefault(source_name, []).append(attribute) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set identifier_attributes = {} -%}
    {%- for attribute, rule in rules.items() if rule.get('identifier_type') -%}
        {%- do identifier_attributes.update({attribute: rule.identifier_type}) -%}
    {%- endfor -%}

with

source_records as (
    select source_name, source_key, customer_id
    from {{ ref('identity_source_records') }}
    where source_name in ('{{ used.keys() | list | join("', '") }}')
    {%- if customers %}
        and customer_id in (select customer_id from {{ customers }})
    {%- endif %}
),
{%- if identifier_attributes %}

customer_identifiers as (
    select customer_id, identifier_type, identifier_value
    from {{ ref('customer_identifiers') }}
    where identifier_type in ('{{ identifier_attributes.values() | unique | join("', '") }}')
    {%- if customers %}
        and customer_id in (select customer_id from {{ customers }})
    {%- endif %}
),
{%- endif %}
{%- for source_name, attributes in used.items() %}
    {%- set source = sources[source_name] %}

{{ source_name }}_records as (
    select
        source_records.customer_id,
        records.seen_at
        {%- for attribute in attributes | unique %},
        records.{{ attribute }}
        {%- endfor %}
    from (
        select
            cast({{ source.key }} as {{ dbt.type_string() }}) as record_key,
            {{ source.seen_at }} as seen_at
            {%- for attribute in attributes | unique %},
            cast({{ source.columns[attribute] }} as {{ dbt.type_string() }}) as {{ attribute }}
            {%- endfor %}
        from {{ ref(source.model) }}
    ) as records
    inner join source_records
        on source_records.source_name = '{{ source_name }}'
            and records.record_key = source_records.source_key
),
{%- endfor %}

candidates as (
    {%- for attribute, rule in rules.items() %}
    {%- set outer_last = loop.last %}
    {%- for source_name in rule.sources %}
    select
        customer_id,
        '{{ attribute }}' as attribute,
        {{ attribute }} as attribute_value,
        {{ loop.index }} as source_priority,
        seen_at
    from {{ source_name }}_records
    where {{ attribute }} is not null
        {%- if rule.get('ignore') %}
        and {{ attribute }} not in ('{{ rule.ignore | join("', '") }}')
        {%- endif %}
    {%- if not (outer_last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
),

values_aggregated as (
    select
        customer_id,
        attribute,
        attribute_value,
        min(source_priority) as source_priority,
        max(seen_at) as last_seen_at,
        count(*) as records_count
    from candidates
    group by customer_id, attribute, attribute_value
),

values_checked as (
    {%- if identifier_attributes %}
    select values_aggregated.*
    from values_aggregated
    left outer join customer_identifiers
        on values_aggregated.customer_id = customer_identifiers.customer_id
            and values_aggregated.attribute_value = customer_identifiers.identifier_value
            and customer_identifiers.identifier_type = case values_aggregated.attribute
            {%- for attribute, identifier_type in identifier_attributes.items() %}
            when '{{ attribute }}' then '{{ identifier_type }}'
            {%- endfor %}
        end
    where values_aggregated.attribute not in ('{{ identifier_attributes.keys() | join("', '") }}')
        or customer_identifiers.customer_id is not null
    {%- else %}
    select * from values_aggregated
    {%- endif %}
),

values_ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, attribute
            order by
                case attribute
                    {%- for attribute, rule in rules.items() %}
                    {%- if rule.rule == 'priority_then_recent' %}
                    when '{{ attribute }}' then source_priority
                    {%- elif rule.rule == 'most_frequent' %}
                    when '{{ attribute }}' then -records_count
                    {%- endif %}
                    {%- endfor %}
                    else 0
                end,
                last_seen_at desc nulls last,
                source_priority,
                attribute_value
        ) as value_rank,
        count(*) over (partition by customer_id, attribute) as candidate_values_count
    from values_checked
),

values_survived as (
    select
        customer_id,
        attribute,
        attribute_value,
        case attribute
            {%- for attribute, rule in rules.items() %}
            when '{{ attribute }}' then case source_priority
                {%- for source_name in rule.sources %}
                when {{ loop.index }} then '{{ source_name }}'
                {%- endfor %}
            end
            {%- endfor %}
        end as source_name,
        last_seen_at as source_seen_at,
        records_count,
        candidate_values_count
    from values_ranked
    where value_rank = 1
)

select * from values_survived
{%- endmacro %}
