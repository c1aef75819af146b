"""The privacy budget ledger: epsilon spent per source table, its limit, and the check before a DP fit.

A source is a base table the training query reads, as DuckDB's own parse tree (``json_serialize_sql``)
names it (``schema.table``, lower-cased): the same rows under another model name, a subset (WHERE) or a
projection of a table all spend from that table's budget, and a join spends on each table it reads. A
query that reads no table (a file function, VALUES) is keyed by its text. Spends are rows of
``genesis.privacy_budget`` and a ``privacy_spend`` transform block in lineage, both written in the
transaction that stores the model, so a refused or failed fit spends nothing.
"""
from __future__ import annotations


import duckdb

from genesis_sql._parse_tree import parse_tree, walk
from genesis_sql.errors import InvalidArgumentError, PrivacyBudgetError
from genesis_sql.lineage import drafts, store
from genesis_sql.lineage.signing import Signer

DEFAULT_LIMIT = 10.0
MECHANISM = "dp_copula_zcdp"
def sources_of(source_sql: str) -> list[str]:
    """The base tables ``source_sql`` reads (``schema.table``; ``main`` when unqualified), sorted; CTE names
    are not tables. A query reading none is its own source (its whitespace-normalised text)."""
    tree = parse_tree(source_sql)
    ctes = set()
    for node in walk(tree):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            for entry in cte_map.get("map", []) or []:
                if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                    ctes.add(entry["key"].lower())
    tables = set()
    for node in walk(tree):
        table = node.get("table_name")
        if node.get("type") == "BASE_TABLE" and isinstance(table, str) and table:
            schema = str(node.get("schema_name") or "main").lower()
            if table.lower() in ctes and not node.get("schema_name"):
                continue
            tables.add(f"{schema}.{table.lower()}")
    return sorted(tables) or [" ".join(source_sql.split())]


def _limit(con: duckdb.DuckDBPyConnection, source: str) -> float:
    rows = con.execute("SELECT epsilon FROM genesis.privacy_limits WHERE source = ?", [source]).fetchall()
    return float(rows[0][0]) if rows else DEFAULT_LIMIT


def _spent(con: duckdb.DuckDBPyConnection, source: str) -> float:
    return float(con.execute("SELECT coalesce(sum(epsilon), 0) FROM genesis.privacy_budget WHERE source = ?",
                             [source]).fetchall()[0][0])


def check_spend(con: duckdb.DuckDBPyConnection, sources: list[str], epsilon: float) -> None:
    """Raise PrivacyBudgetError when spending ``epsilon`` more on any of ``sources`` passes its limit."""
    for source in sources:
        spent, limit = _spent(con, source), _limit(con, source)
        if spent + epsilon > limit + 1e-12:
            raise PrivacyBudgetError(
                f"A DP fit with epsilon {epsilon:g} over {source} would spend {spent + epsilon:g} of its limit "
                f"{limit:g} (already spent {spent:g}); use a smaller epsilon, or raise the limit with "
                f"genesis_privacy_budget_limit('{source}', epsilon) if the data owner allows it.")


def record_spend(con: duckdb.DuckDBPyConnection, *, model: str, version: int, sources: list[str], epsilon: float,
                 delta: float) -> None:
    """Write the spend (one ledger row per source) and its lineage block; call inside the model's transaction,
    after a final :func:`check_spend` there, so concurrent fits cannot both pass the limit."""
    check_spend(con, sources, epsilon)
    for source in sources:
        con.execute("INSERT INTO genesis.privacy_budget (model, version, mechanism, epsilon, delta, note, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", [model, version, MECHANISM, epsilon, delta,
                                                      "differentially private fit", source])
    draft = drafts.transform_draft("privacy_spend", {"mechanism": MECHANISM, "epsilon": epsilon, "delta": delta,
                                                     "sources": sources, "version": version}, model=model)
    store.append_in_transaction(con, [draft], signer=Signer.from_env())


def set_limit(con: duckdb.DuckDBPyConnection, source: str, epsilon: float) -> float:
    """Set the total epsilon ``source`` may spend; returns it. A table name is qualified like the ledger's keys."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon >= 0:
        raise InvalidArgumentError(f"The privacy budget limit must be a number >= 0, such as 10. Got {epsilon!r}.")
    if not isinstance(source, str) or not source.strip():
        raise InvalidArgumentError("The source must name a table, such as 'benefits' or 'main.benefits'.")
    key = source.strip().lower()
    if "." not in key and " " not in key:
        key = f"main.{key}"
    con.execute("INSERT OR REPLACE INTO genesis.privacy_limits (source, epsilon) VALUES (?, ?)", [key, float(epsilon)])
    return float(epsilon)
