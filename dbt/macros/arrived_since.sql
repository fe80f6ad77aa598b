{#-
    The filter of an incremental model: rows of its input that arrived since the last build.
    The watermark is the latest `this_column` in the model's own table, read once before the
    build (a constant, not a subquery: the planner then reads only the new rows by index),
    minus var('incremental_lookback'): a landing file's rows carry the time its load began, so
    a file still loading during the last build arrives "in the past"; rereading the lookback
    window is harmless since every incremental model replaces rows by their key.
    Outside an incremental build (first build, --full-refresh) the filter is `true`.
-#}
{% macro arrived_since(column, this_column='arrived_at') -%}
    {%- if is_incremental() and execute -%}
        {%- set last = run_query(
            "select coalesce(max(" ~ this_column ~ "), '-infinity'::timestamptz)::text from " ~ this
        ).columns[0].values()[0] -%}
        {{ column }} > '{{ last }}'::timestamptz - interval '{{ var("incremental_lookback") }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
