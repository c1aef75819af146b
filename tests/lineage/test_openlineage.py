from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from genesis_sql.lineage import LineageChain
from genesis_sql.lineage.manifest import DataLineage
from genesis_sql.lineage.openlineage import openlineage_events

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "lineage" /
                     "openlineage-runevent-2-0-2.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def events(history):
    return openlineage_events(DataLineage(LineageChain(history), "customers").create_manifest())


def uris(value):
    """Every value of a key that OpenLineage types as a URI."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("producer", "schemaURL", "_producer", "_schemaURL"):
                yield item
            yield from uris(item)
    elif isinstance(value, list):
        for item in value:
            yield from uris(item)


def test_every_event_is_a_valid_openlineage_run_event(events):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for event in events:
        validator.validate(json.loads(json.dumps(event)))
        uuid.UUID(event["run"]["runId"])
        assert dt.datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00")).tzinfo is not None
        assert all(urlsplit(uri).scheme for uri in uris(event))


def test_a_broken_event_is_rejected_by_the_schema(events):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    broken = json.loads(json.dumps(events[0]))
    del broken["run"]["facets"]["genesis"]["_producer"]
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def test_each_run_starts_and_completes_with_the_genesis_facet(events, history):
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"] * 5
    assert [e["job"]["name"] for e in events[::2]] == [
        "customers.fit", "customers.generation", "customers.fit", "customers.generation", "customers.quality"]
    chain = {b.block_id: b for b in LineageChain(history).blocks()}
    for start, complete in zip(events[::2], events[1::2]):
        assert start["run"]["runId"] == complete["run"]["runId"]
        assert start["eventTime"] <= complete["eventTime"]
        facet = complete["run"]["facets"]["genesis"]
        block = chain[facet["block_id"]]
        assert (facet["block_hash"], facet["block_seq"]) == (block.hash, block.seq)
    generation = events[7]["run"]["facets"]["genesis"]
    assert (generation["seed"], generation["n"], generation["conditions"]) == (2, 30, "\"state\" = 'CA'")
    assert events[7]["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 30
    assert events[5]["job"]["facets"]["sql"]["query"] == "SELECT * FROM customers WHERE age > 30"
    assert events[5]["outputs"][0]["facets"]["version"]["datasetVersion"] == generation["content_hash"]
