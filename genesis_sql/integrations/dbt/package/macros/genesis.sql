{#- Macros over the genesis SQL functions. They render portable SQL (`condition :=`), so they ask for a
    sub-population even on a connection without the genesis_sql.dbt plugin's pushdown. -#}

{% macro sql_string(text) -%}
'{{ text | replace("'", "''") }}'
{%- endmacro %}

{#- n rows of `model`, each satisfying `where` (a SQL condition over the model's columns). -#}
{% macro generate(model, n, where=none, seed=none) -%}
genesis_generate({{ genesis.sql_string(model) }}, {{ n | int }}
  {%- if seed is not none %}, seed := {{ seed | int }}{% endif %}
  {%- if where is not none %}, condition := {{ genesis.sql_string(where) }}{% endif %})
{%- endmacro %}

{#- A one-row SELECT that fits `model` on `relation` (a ref() or source()); with skip_unchanged (the
    default) a run over unchanged rows keeps the stored version instead of adding one. -#}
{% macro fit(model, relation, method='auto', seed=0, skip_unchanged=true, options={}) -%}
{%- set all_options = {'skip_unchanged': skip_unchanged} -%}
{%- do all_options.update(options) -%}
SELECT genesis_fit({{ genesis.sql_string(model) }}, {{ genesis.sql_string('SELECT * FROM ' ~ relation) }},
                   method := {{ genesis.sql_string(method) }}, seed := {{ seed | int }},
                   options := {{ genesis.sql_string(tojson(all_options)) }}) AS fit_summary
{%- endmacro %}
