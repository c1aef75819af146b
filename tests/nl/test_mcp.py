"""genesis mcp: the server started as a subprocess and driven by the mcp client over stdio."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import anyio
import pytest

pytest.importorskip("mcp")
from mcp import ClientSession  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

GENESIS = shutil.which("genesis") or str(Path(sys.executable).parent / "genesis")


def _drive(db: Path) -> dict:
    """Start ``genesis --db DB mcp`` and call every tool once; returns what came back."""
    seen: dict = {}

    async def session() -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        params = StdioServerParameters(command=GENESIS, args=["--db", str(db), "mcp", "--max-rows", "500"], env=env)
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as client:
                    await client.initialize()
                    seen["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
                    seen["resources"] = sorted(str(r.uri) for r in (await client.list_resources()).resources)
                    seen["resource"] = json.loads(
                        (await client.read_resource("genesis://models/workers")).contents[0].text)
                    seen["models"] = await client.call_tool("list_models", {})
                    seen["sql"] = await client.call_tool("generate", {
                        "sql": "SELECT * FROM genesis_generate('workers', 40) WHERE age > 50 AND state = 93",
                        "seed": 7})
                    seen["structured"] = await client.call_tool("generate", {
                        "model": "diamonds", "n": 20, "format": "csv",
                        "conditions": [{"column": "cut", "op": "in", "value": ["Ideal", "Premium"]}]})
                    seen["ask"] = await client.call_tool("ask", {"request": "300 workers over 50 in California"})
                    seen["explain"] = await client.call_tool("explain", {
                        "sql": "SELECT * FROM genesis_generate('workers', 5) WHERE age > 50"})
                    seen["quality"] = await client.call_tool("quality", {"model": "workers"})
                    seen["describe"] = await client.call_tool("describe_model", {"model": "workers"})
                    seen["drop"] = await client.call_tool("generate", {"sql": "DROP TABLE benefits"})
                    seen["read_csv"] = await client.call_tool("generate", {
                        "sql": "SELECT * FROM read_csv('/etc/passwd')"})
                    seen["cap"] = await client.call_tool("generate", {
                        "sql": "SELECT * FROM genesis_generate('workers', 501)"})

    anyio.run(session)
    return seen


def _payload(result) -> object:
    assert not result.is_error, result.content[0].text
    return json.loads(result.content[0].text)


def test_genesis_mcp_serves_tools_and_resources_over_stdio(nl_db: Path):
    seen = _drive(nl_db)
    assert seen["tools"] == ["ask", "describe_model", "explain", "generate", "list_models", "quality"]
    assert "genesis://models/workers" in seen["resources"] and len(seen["resources"]) == 6
    assert {c["name"] for c in seen["resource"]["columns"]} >= {"age", "state"}
    assert {"value": 93, "label": "California"} in next(
        c for c in seen["resource"]["columns"] if c["name"] == "state")["labels"]
    assert "workers" in {m["name"] for m in _payload(seen["models"])["models"]}
    rows = _payload(seen["sql"])
    assert rows["row_count"] == 40 and all(r["age"] > 50 and r["state"] == 93 for r in rows["rows"])
    assert "seed := 7" in rows["sql"]
    csv = _payload(seen["structured"])["rows"]
    assert csv.splitlines()[0].startswith('"carat","cut"') and len(csv.splitlines()) == 21
    assert all(line.split(",")[1].strip('"') in ("Ideal", "Premium") for line in csv.splitlines()[1:])
    asked = _payload(seen["ask"])["sql"]
    assert asked == "SELECT * FROM genesis_generate('workers', 300) WHERE age > 50 AND state = 93"
    assert "pushed into generators" in seen["explain"].content[0].text
    assert _payload(seen["quality"])["evaluated"] is False
    assert len(_payload(seen["describe"])["examples"]) == 3
    for key, name in (("drop", "UnsafeQueryError"), ("read_csv", "UnsafeQueryError"), ("cap", "UnsafeQueryError")):
        assert seen[key].is_error and name in seen[key].content[0].text
