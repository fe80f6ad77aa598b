{#-
    The filter of an incremental model: rows of its input that the model's last build did not
    see. Two bounds, both read from the model's own table once before the build and inlined
    as constants (the planner then reads only the new rows, by index):
    - the watermark: the latest `this_column` the model holds (rows that arrived after it);
    - the last build's time (`_built_at`, see built_at()) minus var('incremental_lookback'):
      a landing file's rows carry the time its load began, so a file still loading during the
      last build committed after it with a time before the watermark; such a file began less
      than the lookback before that build.
    A row that arrived after the earlier of the two is read again (harmless: rows are replaced
    by their key); every other row was visible to the last build.
    Outside an incremental build (first build, --full-refresh) the filter is `true`.
-#}
{% macro arrived_since(column, this_column='arrived_at') -%}
    {%- if is_incremental() and execute -%}
        {%- set bounds = run_query(
            "select coalesce(max(" ~ this_column ~ "), '-infinity'::timestamptz)::text,"
            ~ " coalesce(max(_built_at), '-infinity'::timestamptz)::text from " ~ this
        ).rows[0] -%}
        {{ column }} > least(
            '{{ bounds[0] }}'::timestamptz,
            '{{ bounds[1] }}'::timestamptz - interval '{{ var("incremental_lookback") }}'
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- When a row was built: the build's transaction start, the bound arrived_since() needs. -#}
{% macro built_at() -%}
    now() as _built_at
{%- endmacro %}
