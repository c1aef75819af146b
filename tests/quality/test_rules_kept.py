"""Rules kept: every relation that holds in all real rows gets the share of synthetic rows keeping it, in
the report, the genesis.quality_* views and the summary's worst share."""
from __future__ import annotations

import genesis_sql
from genesis_sql.quality import evaluate
from tests.rules.test_detect import planted


def _planted(con):
    con.register("planted_arrow", planted(600))
    con.execute("CREATE TABLE planted AS SELECT * FROM planted_arrow")
    con.unregister("planted_arrow")


def test_a_broken_equality_shows_in_the_rules_kept_figures(con):
    _planted(con)
    genesis_sql.fit(con, "loose", "SELECT * FROM planted", method="copula", rules="off")
    report = evaluate(con, "loose", "SELECT * FROM planted", n=600)
    kept = dict(con.sql("SELECT rule, kept FROM genesis.quality_rules WHERE run_id = ?",
                        params=[report.run_id]).fetchall())
    assert kept['"a_copy" = "a"'] < 0.5
    assert kept['"total" = "a" + "b"'] < 0.5
    summary = con.sql("SELECT rules_kept FROM genesis.quality_summary WHERE run_id = ?",
                      params=[report.run_id]).fetchall()[0][0]
    assert summary == min(kept.values()) == report.scores["rules_kept"]


def test_a_model_keeping_its_rules_keeps_all_of_them(con):
    _planted(con)
    genesis_sql.fit(con, "kept", "SELECT * FROM planted", method="copula")
    report = evaluate(con, "kept", "SELECT * FROM planted", n=600)
    kept = con.sql("SELECT kind, kept FROM genesis.quality_rules WHERE run_id = ?", params=[report.run_id]).fetchall()
    assert {kind for kind, _ in kept} >= {"equal", "offset", "sum", "function", "order"}
    assert all(share == 1.0 for _, share in kept)
    assert report.scores["rules_kept"] == 1.0
