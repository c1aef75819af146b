"""Beyond one machine: portable model files, and partitioned generation (to files or to Kafka) on Dask.

Generation is deterministic per (model content, seed, condition, row index), so a request splits into
row ranges that any process can make from the model file alone and that join back into exactly the
single-process output.
"""
from __future__ import annotations

from genesis_sql.distributed.portable import PortableModel, export_model, import_model, model_bytes, read_model

__all__ = ["PortableModel", "export_model", "import_model", "model_bytes", "read_model"]
