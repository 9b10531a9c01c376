{#
    Fails for every row where `column_name` is above `maximum` (a number or a var).
    Used by the identity release gate.
#}
{% test at_most(model, column_name, maximum) %}
    select *
    from {{ model }}
    where {{ column_name }} > {{ maximum }}
{% endtest %}
