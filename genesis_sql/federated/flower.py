"""The same protocol across processes on Flower (``pip install "genesis-sql[federated]"``): a SuperLink,
one SuperNode per site, each site a DuckDB file.

Each protocol message is a Flower ``query`` message whose content holds the phase and the JSON payload;
the ClientApp answers it with :meth:`DataSite.handle`. Flower runs a ClientApp process per message, so
a site keeps what it must remember between messages (its session, the open rounds' secrets, the agreed
codecs) in its node's Flower state, which never leaves the SuperNode; its long-lived Ed25519 identity
key lives in a key file beside its database (``<db>.site-key``, created on first use).

The ServerApp runs :class:`FederatedGenerator` with a :class:`SecureAggregator` over
:class:`FlowerExchange` and registers the result in the aggregator's DuckDB file. ``genesis federated
site`` starts a SuperNode for one site, ``genesis federated aggregate`` a SuperLink and the run
(genesis_sql.federated.deploy).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import duckdb
from nacl.signing import SigningKey

from genesis_sql.errors import FederatedError, MissingDependencyError

try:
    from flwr.app import ConfigRecord, Context, Message, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise MissingDependencyError(
        "Federated training across processes runs on Flower: pip install \"genesis-sql[federated]\" "
        "(flwr 1.42; the in-process FederatedTrainingSimulator needs nothing more).") from exc

from genesis_sql.federated.aggregator import SecureAggregator
from genesis_sql.federated.generator import FederatedGenerator
from genesis_sql.federated.site import DataSite, SiteConfig

_RECORD = "genesis"
# How long the aggregator waits for the sites to connect, and for one round of replies.
CONNECT_SECONDS = 120.0
REPLY_SECONDS = 300.0


def site_key(db: str | Path) -> SigningKey:
    """The site's Ed25519 identity key from ``<db>.site-key`` (made, readable by the owner only, when missing)."""
    path = Path(f"{db}.site-key")
    if not path.exists():
        key = SigningKey.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.encode().hex())
        return key
    return SigningKey(bytes.fromhex(path.read_text().strip()))


def _content(phase: str, payload: dict[str, Any]) -> RecordDict:
    return RecordDict({_RECORD: ConfigRecord({"phase": phase, "payload": json.dumps(payload)})})


class FlowerExchange:
    """The aggregator's side of the transport: one Flower query message per site and phase.

    Args:
        grid: the ServerApp's grid.
        expected: how many sites to wait for before starting.
    """

    def __init__(self, grid: Grid, expected: int, *, connect_seconds: float = CONNECT_SECONDS,
                 reply_seconds: float = REPLY_SECONDS) -> None:
        self.grid = grid
        self.reply_seconds = reply_seconds
        self.failures: dict[str, str] = {}
        self.traffic: dict[str, dict[str, int]] = {}
        deadline = time.monotonic() + connect_seconds
        nodes: list[int] = []
        while time.monotonic() < deadline:
            nodes = sorted(grid.get_node_ids())
            if len(nodes) >= expected:
                break
            time.sleep(0.5)
        if len(nodes) < expected:
            raise FederatedError(f"Only {len(nodes)} of {expected} sites connected within {connect_seconds:.0f}s.")
        replies, errors = self._send("identify", {node: {} for node in nodes})
        if errors:
            raise FederatedError(f"Sites failed to identify themselves: {sorted(errors.values())}")
        self.nodes = {reply["site"]: node for node, reply in replies.items()}

    @property
    def sites(self) -> list[str]:
        """The names of the connected sites."""
        return list(self.nodes)

    def _send(self, phase: str, payloads: dict[int, dict[str, Any]]) -> tuple[dict[int, Any], dict[int, str]]:
        messages = [Message(content=_content(phase, payload), dst_node_id=node, message_type="query")
                    for node, payload in payloads.items()]
        replies, errors = {}, {}
        for reply in self.grid.send_and_receive(messages, timeout=self.reply_seconds):
            node = reply.metadata.src_node_id
            if reply.has_error():
                errors[node] = reply.error.reason
                continue
            record = reply.content.config_records[_RECORD]
            if "error" in record:
                errors[node] = str(record["error"])
                continue
            replies[node] = json.loads(str(record["payload"]))
        return replies, errors

    def call(self, phase: str, payloads: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        names = {node: site for site, node in self.nodes.items()}
        sent = {self.nodes[site]: payload for site, payload in payloads.items() if site in self.nodes}
        replies, errors = self._send(phase, sent)
        self.failures.update({names[node]: reason for node, reason in errors.items()})
        for node, payload in sent.items():
            usage = self.traffic.setdefault(names[node], {})
            usage[f"{phase}_down"] = usage.get(f"{phase}_down", 0) + len(json.dumps(payload))
            if node in replies:
                usage[f"{phase}_up"] = usage.get(f"{phase}_up", 0) + len(json.dumps(replies[node]))
        return {names[node]: reply for node, reply in replies.items()}


client_app = ClientApp()


@client_app.query()
def _site_query(message: Message, context: Context) -> Message:
    """A site answers one protocol message, with its rows in its DuckDB file (node config ``db``)."""
    record = message.content.config_records[_RECORD]
    phase, payload = str(record["phase"]), json.loads(str(record["payload"]))
    config = context.node_config
    db, name, sql = str(config["db"]), str(config["site"]), str(config["sql"])
    try:
        if phase == "identify":
            answer: dict[str, Any] = {"site": name}
        else:
            con = duckdb.connect(db)
            try:
                site = DataSite(SiteConfig(name, privacy_budget=float(config.get("privacy-budget", 10.0))), con, sql,
                                signing_key=site_key(db))
                if _RECORD in context.state.config_records:
                    site.restore_state(json.loads(str(context.state.config_records[_RECORD]["state"])))
                answer = site.handle(phase, payload)
                context.state.config_records[_RECORD] = ConfigRecord({"state": json.dumps(site.export_state())})
            finally:
                con.close()
        content = RecordDict({_RECORD: ConfigRecord({"payload": json.dumps(answer)})})
    except Exception as exc:  # noqa: BLE001 - the aggregator gets the site's reason instead of a bare failure
        content = RecordDict({_RECORD: ConfigRecord({"error": f"{type(exc).__name__}: {exc}"})})
    return Message(content, reply_to=message)


server_app = ServerApp()


@server_app.main()
def _aggregate(grid: Grid, context: Context) -> None:
    """Train across the connected sites and register the model in the aggregator's DuckDB file."""
    config = context.run_config
    epsilon = float(config.get("epsilon", 0.0)) or None
    dropouts = int(config.get("max-dropouts", -1))
    aggregator = SecureAggregator(min_sites=int(config.get("min-sites", 2)),
                                  max_dropouts=None if dropouts < 0 else dropouts)
    exchange = FlowerExchange(grid, int(config["sites"]), reply_seconds=float(config.get("timeout", REPLY_SECONDS)))
    generator = FederatedGenerator(aggregator=aggregator, exchange=exchange, seed=int(config.get("seed", 0)))
    started = time.perf_counter()
    generator.train(name=str(config["model"]), epsilon=epsilon)
    elapsed = time.perf_counter() - started
    import genesis_sql

    con = duckdb.connect(str(config["db"]))
    try:
        genesis_sql.install(con)
        summary = generator.register(con, str(config["model"]))
    finally:
        con.close()
    report = {"model": summary.name, "version": summary.version, "rows": summary.training_rows,
              "rounds": generator.info["rounds"], "seconds": elapsed, "traffic": exchange.traffic,
              "sites": sorted(exchange.sites), "dropped": generator.info["dropped"]}
    out = config.get("report", "")
    if out:
        Path(str(out)).write_text(json.dumps(report))
