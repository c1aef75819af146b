"""Lineage of a stream: one generation block per stream, written when it stops.

A stream never holds all its rows, so its fingerprint is accumulated as rows are delivered: the count
and the exact sum of DuckDB's row ``hash()``, which is what :mod:`genesis_sql.lineage.fingerprint`
computes in one pass over a finished table. The block therefore carries the same fingerprint that
``table_fingerprint`` gives for the delivered rows, with ``n`` the number of rows delivered.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import duckdb

from genesis_sql.lineage.fingerprint import RowsFingerprint, fingerprint_from_sums
from genesis_sql.lineage.record import record_generation

if TYPE_CHECKING:
    from genesis_sql.generation.plan import GenerationPlan
    from genesis_sql.lineage.block import LineageBlock
    from genesis_sql.streaming.encoding import EncodedBatch

log = logging.getLogger(__name__)


class StreamFingerprint:
    """The running fingerprint of the rows a stream delivered.

    Args:
        columns: The stream's column names, in order.

    Attributes:
        rows: Rows added so far.
        hash_sum: The exact sum of their row hashes.
    """

    def __init__(self, columns: list[str]) -> None:
        self.columns = list(columns)
        self.rows = 0
        self.hash_sum = 0

    def add(self, batch: EncodedBatch) -> None:
        """Count the rows of ``batch`` as delivered."""
        self.rows += batch.num_rows
        self.hash_sum += batch.hash_sum()

    def fingerprint(self) -> RowsFingerprint:
        """The fingerprint of every row added so far (``genesis-rows/1``, like ``table_fingerprint``)."""
        return fingerprint_from_sums(self.columns, self.rows, self.hash_sum)


def record_stream(con: duckdb.DuckDBPyConnection, plan: GenerationPlan, rows: StreamFingerprint, *,
                  destination: str) -> LineageBlock | None:
    """Append the stream's generation block (``n`` = rows delivered); None when it delivered nothing."""
    if rows.rows == 0:
        log.info("stream of %s to %s delivered no rows; no lineage block written", plan.ref, destination)
        return None
    delivered = dataclasses.replace(plan, n=rows.rows)
    return record_generation(con, delivered, rows.fingerprint(), destination=destination)
