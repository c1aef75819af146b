"""Runs Flower's SuperLink or SuperNode with a longer allowance for a task's process to start.

Flower gives the process it starts for each message 30 seconds to check in, then drops the task; on a
loaded machine a Python process importing flwr, numpy and DuckDB can take longer, and every message of
the run would be lost. This sets the allowance (``START_SECONDS``) before Flower's modules read it.

    python -m genesis_sql.federated._flower_launch supernode|superlink [Flower's arguments ...]
"""
from __future__ import annotations

import sys

START_SECONDS = 300


def main() -> int:
    import flwr.common.constant as constant

    constant.HEARTBEAT_DEFAULT_INTERVAL = START_SECONDS
    program, sys.argv = sys.argv[1], [f"flower-{sys.argv[1]}", *sys.argv[2:]]
    if program == "supernode":
        from flwr.supernode.cli import flower_supernode

        return flower_supernode() or 0
    from flwr.superlink.cli import flower_superlink

    return flower_superlink() or 0


if __name__ == "__main__":
    sys.exit(main())
