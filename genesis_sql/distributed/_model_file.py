"""The model file of a Dask job on every worker, as a worker plugin.

The scheduler keeps a registered worker plugin and hands it to every worker, those that join later
included, so each task finds the file on whatever worker runs it, a retry after its first worker died
too. (Scattered data would be lost with the last worker holding it, and Dask's memory manager keeps one
copy of data that no waiting task needs, so a job could lose its model mid-way; a task's result as the
model would pull every part onto the worker holding it.) Imported only where Dask is installed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from distributed import WorkerPlugin, get_worker

T = TypeVar("T")


class ModelFile(WorkerPlugin):
    """The bytes of a portable model file, registered on every worker under a name of the job's."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def with_model(name: str, task: Callable[..., T], *arguments: object) -> T:
    """``task(model_bytes, *arguments)``, with the bytes of the model file registered as ``name``."""
    return task(get_worker().plugins[name].data, *arguments)
