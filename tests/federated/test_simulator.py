"""The simulator end to end on Benefits: fidelity against the centralised copula, the registered model, what
the aggregator received, dropouts, and bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

import genesis_sql
from genesis_sql.catalog import load_model, model_names
from genesis_sql.errors import FederatedError, InvalidArgumentError
from genesis_sql.federated import FederatedTrainingSimulator
from genesis_sql.federated import _shamir
from genesis_sql.federated import statistics as st
from genesis_sql.federated._ring import mask_stream
from genesis_sql.federated._wire import unpack_words

REAL = "SELECT * FROM benefits"


def _overall(con, model: str) -> float:
    return genesis_sql.evaluate(con, model, REAL).overall


def _close_to_central(con, fed: str) -> None:
    genesis_sql.fit(con, "central", REAL, method="copula", seed=0)
    federated, central = load_model(con, fed), load_model(con, "central")
    assert federated.state["latent"] == central.state["latent"]
    # Columns of three or more categories are laid out along the principal axis, whose sign is arbitrary:
    # their correlations may flip with their layout. The others must match.
    fixed = [j for j, i in enumerate(central.state["latent"])
             if len(central.state["codecs"][i].get("categories", [])) < 3]
    difference = federated.arrays["correlation"] - central.arrays["correlation"]
    assert np.abs(difference[np.ix_(fixed, fixed)]).max() < 0.02
    fed_score, central_score = _overall(con, fed), _overall(con, "central")
    assert fed_score >= central_score - 0.02, (fed_score, central_score)


def test_iid_federated_copula_is_within_002_of_the_centralised_one(trained):
    con, _ = trained
    _close_to_central(con, "fed")


def test_non_iid_federated_copula_is_within_002_of_the_centralised_one(benefits_con):
    sim = FederatedTrainingSimulator(n_sites=3, seed=1)
    sites = sim.setup_non_iid(benefits_con, REAL, column="joblost")
    mixes = [dict(s.con.sql("SELECT joblost, count(*) FROM site_rows GROUP BY 1").fetchall()) for s in sites]
    shares = [m.get("slack_work", 0) / sum(m.values()) for m in mixes]
    assert max(shares) - min(shares) > 0.1  # the sites differ in their mix of reasons for losing the job
    sim.simulate_training(benefits_con, "fed_skewed")
    _close_to_central(benefits_con, "fed_skewed")


def test_the_federated_model_is_a_normal_model(trained):
    con, sim = trained
    gcon = con
    method, rows = gcon.sql("SELECT method, training_rows FROM genesis_models() WHERE name = 'fed'").fetchall()[0]
    assert (method, rows) == ("copula", 4877)
    matching = gcon.sql("SELECT count(*), min(age) FROM genesis_generate('fed', 500, seed := 3, "
                        "condition := 'age > 50 AND state = 93')").fetchall()[0]
    assert matching[0] == 500 and matching[1] > 50
    assert gcon.sql("SELECT ok FROM genesis_lineage_verify()").fetchall()[0][0]
    content = [json.loads(c) for (c,) in gcon.sql(
        "SELECT content FROM genesis.lineage WHERE block_type = 'transform' ORDER BY seq").fetchall()]
    block = [c for c in content if c.get("operation") == "federated_aggregate"][-1]
    sites = block["params"]["sites"]
    assert [s["site"] for s in sites] == ["site_0", "site_1", "site_2"]
    for site, entry in zip(sim.sites, sites):
        assert entry["rows_fingerprint"] == genesis_sql.lineage.fingerprint.rows_fingerprint(
            site.con, "SELECT * FROM site_rows").rows_hash
    assert block["params"]["secure_aggregation"] is True


def test_the_aggregator_received_no_rows(trained):
    con, sim = trained
    text = json.dumps(sim.received)
    # rr is a continuous column (more than 256 distinct values): its values never travel.
    values = [r[0] for r in con.sql("SELECT DISTINCT rr FROM benefits WHERE rr * 1e6 % 1000 <> 0").fetchall()]
    assert values and not any(repr(v) in text for v in values)
    assert {m["phase"] for m in sim.received} == {"hello", "advertise", "share", "update", "reveal"}


def test_no_single_sites_statistics_can_be_recovered_from_what_the_aggregator_received(trained):
    _, sim = trained
    sent = [m for m in sim.exchange.sent if m["phase"] == "update"]
    first_round = sent[0]["message"]["round"]
    request, schema = sent[0]["message"]["request"], sent[0]["message"]["schema"]
    entries = st.layout(request, schema)
    updates = {m["site"]: m["message"] for m in sim.received if m["phase"] == "update"
               and m["message"]["round"] == first_round}
    reveals = [m["message"] for m in sim.received if m["phase"] == "reveal" and m["message"]["round"] == first_round]
    assert all(not r["masks"] for r in reveals)  # nobody dropped: no mask key was ever revealed
    total = np.zeros(sum(e["length"] for e in entries), dtype=np.uint64)
    plain_total = np.zeros_like(total)
    for site in sim.sites:
        words = unpack_words(updates[site.name]["vector"])
        # Everything the aggregator can take off one update: the self-mask, from the revealed seed shares.
        seed = _shamir.combine({r["x"]: int(r["seeds"][site.name], 16) for r in reveals})
        unmasked = words - mask_stream(seed, first_round, words.size)
        plain = st.encode_round(site.train_local(request, schema), entries)
        assert np.mean(unmasked == plain) < 0.01
        top = np.bincount((unmasked >> np.uint64(56)).astype(np.int64), minlength=256)
        expected = unmasked.size / 256
        assert ((top - expected) ** 2 / expected).sum() < 330  # uniform top bytes (chi-square, 255 dof)
        total, plain_total = total + unmasked, plain_total + plain
    assert np.array_equal(total, plain_total)  # only the sum unmasks


def test_one_dropout_of_three_is_recovered_and_recorded(benefits_con):
    sim = FederatedTrainingSimulator(n_sites=3, seed=0)
    sim.setup_from_data(benefits_con, REAL)
    sim.simulate_training(benefits_con, "fed_drop", dropouts={2: 4})
    assert sim.generator.info["dropped"] == ["site_2"]
    assert benefits_con.sql("SELECT count(*) FROM genesis_generate('fed_drop', 100, seed := 1)").fetchall()[0][0] == 100


def test_two_dropouts_of_three_fail_loudly_and_store_nothing(benefits_con):
    sim = FederatedTrainingSimulator(n_sites=3, seed=0)
    sim.setup_from_data(benefits_con, REAL)
    with pytest.raises(FederatedError, match="recovers from at most 1"):
        sim.simulate_training(benefits_con, "fed_lost", dropouts={1: 2, 2: 2})
    assert "fed_lost" not in model_names(benefits_con)


def test_min_sites_is_enforced(benefits_con):
    sim = FederatedTrainingSimulator(n_sites=3, seed=0, min_sites=3)
    sim.setup_from_data(benefits_con, REAL)
    with pytest.raises(FederatedError, match="min_sites"):
        sim.simulate_training(benefits_con, "fed_min", dropouts={0: 1})
    assert "fed_min" not in model_names(benefits_con)


def test_bad_input_gets_clear_errors(benefits_con):
    with pytest.raises(InvalidArgumentError, match="n_sites"):
        FederatedTrainingSimulator(n_sites=1)
    sim = FederatedTrainingSimulator(n_sites=2, seed=0)
    with pytest.raises(FederatedError, match="Set the sites up first"):
        sim.simulate_training(benefits_con, "nothing")
    with pytest.raises(InvalidArgumentError, match="no column"):
        sim.setup_non_iid(benefits_con, REAL, column="nope")
    sim.setup_from_data(benefits_con, REAL)
    with pytest.raises(FederatedError, match="method='copula'"):
        sim.simulate_training(benefits_con, "fed_arf", method="arf")
    benefits_con.execute("CREATE TABLE notes AS SELECT age, 'note ' || (random() * 1e9)::BIGINT || ' of row ' || "
                         "row_number() OVER () AS note FROM benefits")
    sim.setup_from_data(benefits_con, "SELECT * FROM notes")
    with pytest.raises(FederatedError, match="free text"):
        sim.simulate_training(benefits_con, "fed_text")
    assert not {"fed_arf", "fed_text", "nothing"} & set(model_names(benefits_con))


def test_many_categories_are_agreed_exactly_despite_slot_collisions(benefits_con):
    # 1,500 categories over 3 sites: values sharing a hash slot are agreed again with a new salt.
    benefits_con.execute("CREATE TABLE codes AS SELECT 'c' || (i % 1500) AS code, (i * 7) % 100 AS amount "
                         "FROM range(12000) t(i)")
    sim = FederatedTrainingSimulator(n_sites=3, seed=0)
    sim.setup_from_data(benefits_con, "SELECT * FROM codes")
    sim.simulate_training(benefits_con, "fed_codes")
    codec = load_model(benefits_con, "fed_codes").state["codecs"][0]
    assert sorted(codec["categories"]) == sorted(f"c{i}" for i in range(1500))


def test_repeated_values_of_a_many_decimal_column_are_generated_exactly(benefits_con):
    # rr has too many decimals for a lattice: its repeated values (0.5 on 620 of 4,877 rows) travel as the
    # mean position in a quantile bin, summed in fixed point over 10 sites. The value must come back as
    # the value itself, not a float's width away (which a KS test and `WHERE rr = 0.5` both see).
    sim = FederatedTrainingSimulator(n_sites=10, seed=0)
    sim.setup_from_data(benefits_con, REAL)
    sim.simulate_training(benefits_con, "fed_ten")
    repeated = dict(benefits_con.sql("SELECT rr, count(*) FROM benefits GROUP BY rr HAVING count(*) >= 20").fetchall())
    assert len(repeated) == 6 and repeated[0.5] == 620
    synthetic = dict(benefits_con.sql("SELECT rr, count(*) FROM genesis_generate('fed_ten', 4877, seed := 0) "
                                      "GROUP BY rr").fetchall())
    assert all(synthetic.get(value, 0) > 0 for value in repeated), {v: synthetic.get(v, 0) for v in repeated}
    assert abs(synthetic[0.5] - 620) < 0.2 * 620
