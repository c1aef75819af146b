"""Postgres catalog compatibility: rewrite what drivers and BI tools send into SQL DuckDB runs.

DuckDB ships a ``pg_catalog`` compatibility layer (pg_class, pg_namespace, pg_attribute, pg_type ...,
format_type, pg_table_is_visible ...). What it lacks, or parses differently, is fixed here: syntax by
one small text rule per gap (each named after what it rewrites), missing functions by session macros
(:data:`SESSION_MACROS`, created on each session's connection, so nothing is stored in the database).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from genesis_sql.server.pgwire.emulated import SERVER_VERSION_NUM, VERSION_TEXT

# Functions psql, pgjdbc and SQLAlchemy call that DuckDB lacks or defines with other arguments.
SESSION_MACROS: dict[str, str] = {
    "pg_get_userbyid": "(role) AS 'genesis'",
    "pg_encoding_to_char": "(encoding) AS 'UTF8'",
    "pg_backend_pid": "() AS 0",
    "pg_total_relation_size": "(rel) AS 0",
    "pg_relation_size": "(rel) AS 0",
    "pg_table_size": "(rel) AS 0",
    "pg_get_indexdef": "(index_oid) AS NULL::VARCHAR, (index_oid, col, pretty) AS NULL::VARCHAR",
    "pg_get_expr": "(node, rel) AS NULL::VARCHAR, (node, rel, pretty) AS NULL::VARCHAR",
    "pg_get_viewdef": "(rel) AS NULL::VARCHAR, (rel, pretty) AS NULL::VARCHAR",
    "pg_get_statisticsobjdef_columns": "(oid) AS NULL::VARCHAR",
    "pg_get_partkeydef": "(oid) AS NULL::VARCHAR",
    "pg_get_function_result": "(oid) AS NULL::VARCHAR",
    "pg_get_function_arguments": "(oid) AS NULL::VARCHAR",
    "pg_get_triggerdef": "(oid) AS NULL::VARCHAR, (oid, pretty) AS NULL::VARCHAR",
    "pg_get_ruledef": "(oid) AS NULL::VARCHAR, (oid, pretty) AS NULL::VARCHAR",
    "pg_tablespace_location": "(oid) AS ''",
    "pg_is_in_recovery": "() AS false",
    "format_type": "(type_oid, typemod) AS CASE pg_catalog.format_type(type_oid, typemod) "
                   "WHEN 'float8' THEN 'double precision' WHEN 'float4' THEN 'real' WHEN 'int8' THEN 'bigint' "
                   "WHEN 'int4' THEN 'integer' WHEN 'int2' THEN 'smallint' WHEN 'bool' THEN 'boolean' "
                   "WHEN 'varchar' THEN 'character varying' WHEN 'timestamp' THEN 'timestamp without time zone' "
                   "WHEN 'timestamptz' THEN 'timestamp with time zone' "
                   "ELSE pg_catalog.format_type(type_oid, typemod) END",
    "to_regtype": "(name) AS (SELECT min(oid) FROM pg_catalog.pg_type WHERE typname = name)",
    "to_regclass": "(name) AS (SELECT min(oid) FROM pg_catalog.pg_class WHERE relname = name)",
    "pg_get_serial_sequence": "(rel, col) AS NULL::VARCHAR",
    "pg_relation_is_publishable": "(rel) AS false",
    "array_upper": "(arr, dimension) AS len(arr)",
    "quote_ident": "(name) AS '\"' || replace(name, '\"', '\"\"') || '\"'",
    "txid_current": "() AS 1",
    "pg_postmaster_start_time": "() AS TIMESTAMP '2000-01-01'",
    "inet_server_addr": "() AS NULL::VARCHAR",
    "inet_server_port": "() AS NULL::INTEGER",
}


# Catalog relations DuckDB lacks, or lacks columns of, that psql's \\d family and drivers read.
_EMPTY = "SELECT * FROM (VALUES ({values})) AS t({columns}) WHERE false"
SESSION_VIEWS: dict[str, str] = {
    "pg_class": "SELECT *, false AS relforcerowsecurity FROM pg_catalog.pg_class",
    "pg_inherits": _EMPTY.format(values="0::BIGINT, 0::BIGINT, 0, false",
                                 columns="inhrelid, inhparent, inhseqno, inhdetachpending"),
    "pg_policy": _EMPTY.format(values="0::BIGINT, '', 0::BIGINT, '', true, NULL::BIGINT[], '', ''",
                               columns="oid, polname, polrelid, polcmd, polpermissive, polroles, polqual, "
                                       "polwithcheck"),
    "pg_rewrite": _EMPTY.format(values="0::BIGINT, '', 0::BIGINT, '', '', false, '', ''",
                                columns="oid, rulename, ev_class, ev_type, ev_enabled, is_instead, ev_qual, ev_action"),
    "pg_trigger": _EMPTY.format(values="0::BIGINT, 0::BIGINT, 0::BIGINT, '', 0::BIGINT, 0, '', false, 0::BIGINT",
                                columns="oid, tgrelid, tgparentid, tgname, tgfoid, tgtype, tgenabled, tgisinternal, "
                                        "tgconstraint"),
    "pg_statistic_ext": _EMPTY.format(
        values="0::BIGINT, 0::BIGINT, '', 0::BIGINT, 0::BIGINT, 0, NULL::INTEGER[], NULL::VARCHAR[]",
        columns="oid, stxrelid, stxname, stxnamespace, stxowner, stxstattarget, stxkeys, stxkind"),
    "pg_publication": _EMPTY.format(
        values="0::BIGINT, '', false, false, false, false, false, false",
        columns="oid, pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, pubviaroot"),
    "pg_publication_rel": _EMPTY.format(values="0::BIGINT, 0::BIGINT, 0::BIGINT, NULL::VARCHAR, NULL::SMALLINT[]",
                                        columns="oid, prpubid, prrelid, prqual, prattrs"),
    "pg_publication_namespace": _EMPTY.format(values="0::BIGINT, 0::BIGINT, 0::BIGINT",
                                              columns="oid, pnpubid, pnnspid"),
    "pg_roles": "SELECT 10::BIGINT AS oid, 'genesis' AS rolname, false AS rolsuper, false AS rolinherit, "
                "false AS rolcreaterole, false AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, "
                "-1 AS rolconnlimit, NULL::TIMESTAMP AS rolvaliduntil, false AS rolbypassrls",
    "pg_sequence": _EMPTY.format(values="0::BIGINT, 0::BIGINT, 0::BIGINT, 0::BIGINT, 0::BIGINT, 0::BIGINT, false",
                                 columns="seqrelid, seqstart, seqincrement, seqmax, seqmin, seqcache, seqcycle"),
    "pg_database": "SELECT oid, datname, 10::BIGINT AS datdba, 6 AS encoding, 'C' AS datcollate, 'C' AS datctype, "
                   "NULL::VARCHAR AS daticulocale, 'c' AS datlocprovider, datallowconn, datistemplate, "
                   "-1 AS datconnlimit, NULL::VARCHAR[] AS datacl FROM pg_catalog.pg_database",
    "pg_user": "SELECT 'genesis' AS usename, 10::BIGINT AS usesysid, false AS usecreatedb, false AS usesuper",
}


def session_sql() -> list[str]:
    """The statements creating the session's macros and views on one connection (TEMP: never stored)."""
    return ([f"CREATE OR REPLACE TEMP MACRO {name}{body}" for name, body in SESSION_MACROS.items()]
            + [f"CREATE OR REPLACE TEMP VIEW {name} AS {body}" for name, body in SESSION_VIEWS.items()])


def replace_version(sql: str) -> str:
    """``version()`` answers like Postgres, which SQLAlchemy and pgjdbc parse for a version number."""
    return re.sub(r"\b(?:pg_catalog\.)?version\s*\(\s*\)", f"'{VERSION_TEXT}'", sql, flags=re.IGNORECASE)


def drop_default_collations(sql: str) -> str:
    """``COLLATE pg_catalog.default`` (psql's pattern matches) names no DuckDB collation: drop it."""
    return re.sub(r"\s+COLLATE\s+(?:pg_catalog\.)?(?:\"?default\"?|\"C\"|\"POSIX\")", "", sql, flags=re.IGNORECASE)


def plain_operators(sql: str) -> str:
    """``a OPERATOR(pg_catalog.~) b`` -> ``a ~ b``: DuckDB has the operators, not the qualified syntax."""
    return re.sub(r"OPERATOR\s*\(\s*pg_catalog\s*\.\s*([^)\s]+)\s*\)", r"\1", sql, flags=re.IGNORECASE)


# pg_catalog macros of DuckDB's that reject what psql passes, where DuckDB's own function of the name works.
CORE_FUNCTIONS = ("array_to_string", "generate_series")


def session_functions(sql: str) -> str:
    """``pg_catalog.f(`` -> ``f(`` for the functions the session provides as macros (or DuckDB's core has)."""
    names = "|".join((*SESSION_MACROS, *CORE_FUNCTIONS))
    return re.sub(rf"\bpg_catalog\s*\.\s*({names})\s*\(", r"\1(", sql, flags=re.IGNORECASE)


def session_relations(sql: str) -> str:
    """``pg_catalog.pg_class`` -> ``pg_class`` for the relations the session provides as views."""
    names = "|".join(SESSION_VIEWS)
    return re.sub(rf"\bpg_catalog\s*\.\s*({names})\b", r"\1", sql, flags=re.IGNORECASE)


def regclass_literals(sql: str) -> str:
    """``'name'::regclass`` -> the relation's oid, looked up in pg_class (NULL when there is none)."""
    def replace(match: re.Match) -> str:
        name = match.group(1).replace("''", "'").split(".")[-1].strip('"').replace("'", "''")
        return f"(SELECT min(oid) FROM pg_catalog.pg_class WHERE relname = '{name}')"

    return re.sub(r"'((?:[^']|'')*)'\s*::\s*(?:pg_catalog\s*\.\s*)?regclass\b", replace, sql, flags=re.IGNORECASE)


_TYPE_NAMES = {"text": "VARCHAR", "name": "VARCHAR", "char": "VARCHAR", "bpchar": "VARCHAR", "varchar": "VARCHAR",
               "regproc": "VARCHAR", "int2": "SMALLINT", "int4": "INTEGER", "int8": "BIGINT", "float4": "REAL",
               "float8": "DOUBLE", "bool": "BOOLEAN", "oid": "BIGINT", "regclass": "BIGINT", "regtype": "BIGINT",
               "regnamespace": "BIGINT", "regrole": "BIGINT", "xid": "BIGINT"}


def plain_type_casts(sql: str) -> str:
    """``x::pg_catalog.text``, ``::regtype`` ... -> DuckDB types (reg* casts keep the oid)."""
    def replace(match: re.Match) -> str:
        name = match.group(2).lower()
        if name not in _TYPE_NAMES or (not match.group(1) and name in ("text", "varchar", "bool", "oid")):
            return match.group(0)
        return "::" + _TYPE_NAMES[name]

    sql = re.sub(r'::\s*(pg_catalog\s*\.\s*)?"?(\w+)"?', replace, sql)
    return re.sub(r"\bAS\s+(?:pg_catalog\s*\.\s*)?(REGCLASS|REGTYPE|REGPROC|REGNAMESPACE|REGROLE)\s*\)", "AS BIGINT)",
                  sql, flags=re.IGNORECASE)


_RENAMED = {"json_build_object": "json_object", "jsonb_build_object": "json_object"}


def renamed_functions(sql: str) -> str:
    """Postgres functions DuckDB has under another name."""
    names = "|".join(_RENAMED)
    return re.sub(rf"\b(?:pg_catalog\s*\.\s*)?({names})\s*\(", lambda m: _RENAMED[m.group(1).lower()] + "(", sql,
                  flags=re.IGNORECASE)


def setting_functions(sql: str) -> str:
    """``current_setting('server_version_num')`` and friends answer the Postgres setting."""
    return re.sub(r"(?:pg_catalog\.)?current_setting\s*\(\s*'server_version_num'\s*\)", f"'{SERVER_VERSION_NUM}'",
                  sql, flags=re.IGNORECASE)


RULES: tuple[Callable[[str], str], ...] = (
    replace_version,
    drop_default_collations,
    plain_operators,
    session_functions,
    session_relations,
    regclass_literals,
    plain_type_casts,
    renamed_functions,
    setting_functions,
)


def rewrite_catalog_query(sql: str) -> str:
    """``sql`` with every compatibility rule applied (most queries come back unchanged)."""
    lowered = sql.lower()
    if not any(word in lowered for word in ("pg_", "version", "collate", "::", "json_build", "jsonb_build",
                                            "current_setting", " as reg")):
        return sql
    for rule in RULES:
        sql = rule(sql)
    return sql
