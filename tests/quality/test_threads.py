"""Overlapping quality evaluations limit BLAS to one thread and leave the process's setting as it was."""
from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info

from genesis_sql.quality._threads import one_thread


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_overlapping_limits_restore_the_setting_in_any_order() -> None:
    """Two evaluations in two threads: the first ends while the second still runs (the order threads give)."""
    before = blas_threads()
    if not before or min(before) < 2:
        pytest.skip("BLAS runs one thread here: a limit to one would change nothing")
    first, second = one_thread(), one_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert blas_threads() == [1] * len(before)
    second.__exit__(None, None, None)
    assert blas_threads() == before
