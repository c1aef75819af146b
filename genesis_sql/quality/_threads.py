"""One BLAS/OpenMP thread for the quality metrics' small computations, safe when evaluations overlap.

threadpoolctl's limits are process-wide, and each restores on exit what it saw on entry: two evaluations
in two threads that overlap restore in the wrong order and leave BLAS on one thread for the rest of the
process (slower numpy for the user, and a different thread count than other processes see). Here the
first of any number of overlapping users sets the limit and the last one to leave restores it.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from threadpoolctl import threadpool_limits

_lock = threading.Lock()
_users = 0
_limit: threadpool_limits | None = None


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with BLAS and OpenMP limited to one thread (small inputs: as fast, and never stalls
    on a busy machine)."""
    global _users, _limit
    with _lock:
        if _users == 0:
            _limit = threadpool_limits(limits=1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _limit is not None:
                _limit.restore_original_limits()
                _limit = None
