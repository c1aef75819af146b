"""``genesis mcp``: a Model Context Protocol server (stdio) over one database, for LLM agents.

Tools: ``list_models``, ``describe_model``, ``ask`` (a request in words -> SQL and its reading, not run),
``generate`` (validated SQL, or a model with structured conditions; row cap; rows as JSON or CSV),
``explain`` and ``quality``. Resources: ``genesis://models/<name>``, one description per model.
The server owns one hardened connection (read-only, no external access, configuration locked), so SQL an
agent writes can read no file, attach nothing and change no setting, whatever it says.
"""
from __future__ import annotations

import functools
import io
import json
import threading
from collections.abc import Callable
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv

from genesis_sql.catalog import model_names
from genesis_sql.errors import GenesisError, InvalidArgumentError, MissingDependencyError
from genesis_sql.nl.validate import DEFAULT_MAX_ROWS, open_hardened, validate_sql

SERVER_NAME = "genesis-sql"


def _errors_named(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A GenesisError reaches the agent as a tool error naming its class (as errors inside SQL do)."""
    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GenesisError as exc:
            raise ToolError(f"{type(exc).__name__}: {exc}") from exc

    return wrapper


def _json_rows(table: pa.Table) -> list[dict[str, Any]]:
    return json.loads(json.dumps(table.to_pylist(), default=str))


def _csv(table: pa.Table) -> str:
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink)
    return sink.getvalue().decode("utf-8")


class GenesisTools:
    """What the MCP tools do, on one hardened connection (usable without an MCP server, e.g. in tests)."""

    def __init__(self, path: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self.con = open_hardened(path)
        self.max_rows = max_rows
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def list_models(self) -> dict[str, Any]:
        """Every model's latest version: name, version, method, column count, training rows."""
        with self._lock:
            rows = self.con.execute("SELECT name, version, method, columns, training_rows FROM genesis_models() "
                                    "WHERE is_latest ORDER BY name").fetchall()
        return {"models": [{"name": r[0], "version": r[1], "method": r[2], "columns": r[3], "training_rows": r[4]}
                           for r in rows]}

    def describe_model(self, model: str) -> dict[str, Any]:
        """Columns with kinds, ranges, values with shares, labels, descriptions and rules; SQL examples."""
        from genesis_sql.nl.describe import describe_model
        from genesis_sql.nl.prompt import examples

        with self._lock:
            description = describe_model(self.con, model)
        return {**description.to_dict(), "examples": examples(description)}

    def ask(self, request: str) -> dict[str, Any]:
        """A request in words read into genesis SQL (not run): SQL, conditions, assumptions, doubts."""
        from genesis_sql.nl.ask import ask

        with self._lock:
            result = ask(self.con, request)
        return {"sql": result.sql, "model": result.model, "n": result.n, "conditions": list(result.conditions),
                "assumptions": list(result.assumptions), "unparsed": list(result.unparsed),
                "problems": list(result.problems), "needs_confirmation": result.needs_confirmation}

    def _sql_for(self, sql: str | None, model: str | None, n: int | None,
                 conditions: list[dict[str, Any]] | None) -> str:
        if (sql is None) == (model is None):
            raise InvalidArgumentError("Give either sql (one SELECT over genesis_generate) or model with n and "
                                       "optional conditions [{column, op, value}].")
        if sql is not None:
            return sql
        from genesis_sql.nl.ask import descriptions
        from genesis_sql.nl.intent import intent_from_json

        known = {d.name: d for d in descriptions(self.con, [model])}
        intent = intent_from_json({"model": model, "n": 100 if n is None else n, "conditions": conditions or []},
                                  known)
        if intent.problems:
            raise InvalidArgumentError("The conditions cannot be used: " + "; ".join(intent.problems))
        return intent.to_sql()

    def generate(self, sql: str | None = None, model: str | None = None, n: int | None = None,
                 conditions: list[dict[str, Any]] | None = None, seed: int | None = None,
                 format: Literal["json", "csv"] = "json") -> dict[str, Any]:
        """Validated rows: the SQL that ran, the row count and the rows (JSON objects or CSV text)."""
        from genesis_sql.connection import GenesisConnection

        if format not in ("json", "csv"):
            raise InvalidArgumentError(f"format must be 'json' or 'csv'. Got {format!r}.")
        with self._lock:
            text = self._sql_for(sql, model, n, conditions)
            query = validate_sql(self.con, text, max_rows=self.max_rows)
            run = query.sql
            if seed is not None and query.seed is None:
                call = f"'{query.model}', {query.n}"
                run = run.replace(f"{call})", f"{call}, seed := {int(seed)})", 1)
            table = GenesisConnection(self.con).sql(run).to_arrow_table()
        rows: Any = _json_rows(table) if format == "json" else _csv(table)
        return {"sql": run, "model": f"{query.model}@{query.version}", "row_count": table.num_rows, "rows": rows}

    def explain(self, sql: str) -> str:
        """How a query would run: the validated SQL, the rewrite and the condition pushed into the generator."""
        from genesis_sql.connection import GenesisConnection

        with self._lock:
            query = validate_sql(self.con, sql, max_rows=self.max_rows)
            plan = GenesisConnection(self.con).explain(query.sql)
        return f"validated: {query.sql}\n{plan}"

    def quality(self, model: str) -> dict[str, Any]:
        """The model's latest quality evaluation (overall score and categories), or why there is none."""
        from genesis_sql.catalog import resolve_version

        with self._lock:
            name, version, _ = resolve_version(self.con, model)
            rows = self.con.execute(
                "SELECT run_id, model_version, overall, scores, created_at FROM genesis.quality_runs WHERE model = ? "
                "ORDER BY created_at DESC LIMIT 1", [name]).fetchall()
        if not rows:
            return {"model": name, "version": version, "evaluated": False,
                    "hint": f"Run SELECT genesis_evaluate('{name}', '<real rows query>') or genesis evaluate first."}
        run_id, run_version, overall, scores, created = rows[0]
        return {"model": name, "version": run_version, "evaluated": True, "run_id": run_id, "overall": overall,
                "scores": json.loads(scores), "created_at": str(created)}


def create_server(path: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> Any:
    """The MCP server for the database at ``path`` (tools and one resource per model)."""
    try:
        from mcp.server.mcpserver import MCPServer
    except ImportError as exc:
        raise MissingDependencyError("genesis mcp needs the 'mcp' package: pip install 'genesis-sql[mcp]'.") from exc
    tools = GenesisTools(path, max_rows=max_rows)
    server = MCPServer(SERVER_NAME, instructions=(
        "Synthetic data from models fitted in DuckDB. Read a model's description (describe_model or the "
        "genesis://models/<name> resource), then call generate with SQL of the one form "
        "SELECT * FROM genesis_generate('<model>', <n>) WHERE <condition>, or with model, n and conditions. "
        f"At most {max_rows:,} rows per call."))
    for name in ("list_models", "describe_model", "ask", "generate", "explain", "quality"):
        method = getattr(tools, name)
        server.tool(name=name, description=method.__doc__)(_errors_named(method))
    for name in model_names(tools.con):
        def read(model: str = name) -> str:
            return json.dumps(tools.describe_model(model), default=str)

        server.resource(f"genesis://models/{name}", name=name, mime_type="application/json",
                        description=f"Columns, values, labels and examples of model {name}")(
            functools.partial(read, name))
    return server


def serve_stdio(path: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
    """Run the MCP server on stdin/stdout until the client closes it."""
    create_server(path, max_rows=max_rows).run("stdio")
