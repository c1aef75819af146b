"""The genesis catalog inside DuckDB: the migrations runner and the model registry.

Models are stored as data: a JSON document of learned state plus named numeric arrays (raw little-endian
bytes with an explicit dtype from an allow-list). Loading a model never unpickles or evaluates anything.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from genesis_sql._db import transaction
from genesis_sql.errors import (
    CatalogError,
    InvalidModelNameError,
    MigrationError,
    MissingDependencyError,
    ModelNotFoundError,
)

if TYPE_CHECKING:
    from genesis_sql.models.base import BaseSynthesizer

# Longer names are refused (they end up in messages, lineage blocks and file names).
MAX_NAME_LENGTH = 128
MODEL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
MODEL_REF = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)(?:@(?P<version>[0-9]+))?$")
ARRAY_DTYPES = frozenset({"<f8", "<f4", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "|u1", "|b1"})


def sql_dir(kind: str) -> Path:
    """The folder of shipped SQL files of one kind: ``migrations`` or ``udfs``."""
    return Path(str(resources.files("genesis_sql") / "_sql" / kind))


def _migration_files() -> list[tuple[int, str, Path]]:
    files = []
    for path in sorted(sql_dir("migrations").glob("*.sql")):
        number, _, name = path.stem.partition("_")
        files.append((int(number), name, path))
    return files


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return rows[0][0] > 0


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Numbers of the shipped migrations not yet applied to this database."""
    applied: set[int] = set()
    if _table_exists(con, "genesis", "schema_migrations"):
        applied = {row[0] for row in con.execute("SELECT version FROM genesis.schema_migrations").fetchall()}
    return [number for number, _, _ in _migration_files() if number not in applied]


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Bring the catalog up to date; returns the versions applied now (none when already current).

    Each migration runs in its own transaction together with its ledger row, so a failing migration
    leaves the database exactly as it was before that migration.
    """
    if con.execute("SELECT current_database()").fetchall()[0][0].lower() == "genesis":
        raise CatalogError(
            "This database's catalog is named 'genesis' (from a file named genesis.duckdb), which makes the "
            "schema genesis.* ambiguous in DuckDB. Open it with genesis_sql.connect(path), which attaches it "
            "under another name, or use another file name.")
    waiting = set(pending_migrations(con))
    done = []
    for number, name, path in _migration_files():
        if number not in waiting:
            continue
        text = path.read_text(encoding="utf-8")
        checksum = hashlib.sha256(text.encode()).hexdigest()
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(text)
            con.execute(
                "INSERT INTO genesis.schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                [number, name, checksum],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise MigrationError(f"Migration {path.name} failed and was rolled back: {exc}") from exc
        done.append(number)
    return done


def parse_model_ref(ref: object) -> tuple[str, int | None]:
    """Split ``'name'`` or ``'name@N'`` into (name, version or None), validating both.

    Example:
        >>> parse_model_ref("Diamonds@2")
        ('diamonds', 2)
    """
    if not isinstance(ref, str):
        raise InvalidModelNameError(f"A model name must be text such as 'customers' or 'customers@2'. Got {ref!r}.")
    if len(ref) > MAX_NAME_LENGTH:
        raise InvalidModelNameError(f"A model name has at most {MAX_NAME_LENGTH} characters; got one of {len(ref):,} "
                                    f"starting {ref[:20]!r}.")
    match = MODEL_REF.match(ref.strip().lower())
    if not match:
        raise InvalidModelNameError(
            f"Invalid model name {ref!r}: use lower-case letters, digits and '_' (not starting with a digit), "
            "optionally followed by '@N' for version N, e.g. 'customers' or 'customers@2'."
        )
    version = match.group("version")
    return match.group("name"), (int(version) if version is not None else None)


def validate_model_name(name: object) -> str:
    """A model name to fit under (no version suffix), lower-cased."""
    parsed, version = parse_model_ref(name)
    if version is not None:
        raise InvalidModelNameError(f"Fit under a plain name such as {parsed!r}; versions ('@{version}') are assigned.")
    return parsed


@dataclass
class ModelRecord:
    """One stored model version: its catalog row plus the learned state as data."""

    name: str
    version: int
    method: str
    columns: list[dict[str, Any]]
    parameters: dict[str, Any]
    state: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(repr=False)
    training_rows: int
    source_sql: str
    source_fingerprint: str
    fit_seconds: float
    holdout: dict[str, Any] | None = None
    content_hash: str = ""
    created_at: Any = None

    @property
    def ref(self) -> str:
        """The unambiguous reference ``name@version``."""
        return f"{self.name}@{self.version}"

    def compute_content_hash(self) -> str:
        """SHA-256 over the canonical JSON of everything learned plus every array's bytes."""
        digest = hashlib.sha256()
        head = {"method": self.method, "columns": self.columns, "parameters": self.parameters, "state": self.state}
        digest.update(json.dumps(head, sort_keys=True, separators=(",", ":")).encode())
        for key in sorted(self.arrays):
            array = np.ascontiguousarray(self.arrays[key])
            digest.update(f"{key}:{array.dtype.str}:{array.shape}".encode())
            digest.update(array.tobytes())
        return digest.hexdigest()


def encode_array(array: np.ndarray) -> tuple[str, list[int], bytes]:
    array = np.ascontiguousarray(array)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    dtype = array.dtype.str
    if dtype not in ARRAY_DTYPES:
        raise CatalogError(f"Cannot store an array of dtype {dtype}; allowed: {sorted(ARRAY_DTYPES)}.")
    return dtype, list(array.shape), array.tobytes()


def decode_array(dtype: str, shape: list[int], data: bytes) -> np.ndarray:
    if dtype not in ARRAY_DTYPES:
        raise CatalogError(f"Stored array has dtype {dtype!r}, which is not an allowed numeric dtype.")
    try:
        return np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape).copy()
    except ValueError as exc:
        raise CatalogError(f"Stored array of {len(data)} bytes does not hold dtype {dtype} in shape {shape}.") from exc


def is_read_only(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's current database was opened read-only."""
    return bool(con.execute(
        "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0])


def _require_writable(con: duckdb.DuckDBPyConnection, doing: str) -> None:
    if is_read_only(con):
        raise CatalogError(f"This database is open read-only, so genesis cannot {doing}. Open it writable "
                           "(duckdb.connect(path) or genesis_sql.connect(path) without read_only=True).")


def save_model(con: duckdb.DuckDBPyConnection, record: ModelRecord) -> ModelRecord:
    """Store ``record`` as the next version of its name, atomically; returns it with version and hash set.

    The next version follows the highest ever given to the name, so a dropped version's number is never
    given again while the name has versions. Inside a transaction open on ``con`` the rows join it.

    Raises:
        CatalogError: the database is read-only.
    """
    _require_writable(con, f"store the model {record.name!r}")
    record.content_hash = record.compute_content_hash()
    with transaction(con):
        latest = con.execute(
            "SELECT coalesce(max(version), 0) FROM (SELECT version FROM genesis.models WHERE name = ? "
            "UNION ALL SELECT last_version FROM genesis.model_versions WHERE name = ?)", [record.name, record.name]
        ).fetchall()[0][0]
        record.version = int(latest) + 1
        con.execute("INSERT OR REPLACE INTO genesis.model_versions VALUES (?, ?)", [record.name, record.version])
        con.execute(
            """INSERT INTO genesis.models (name, version, method, columns, parameters, state, training_rows,
                   source_sql, source_fingerprint, content_hash, fit_seconds, holdout)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                record.name, record.version, record.method, json.dumps(record.columns),
                json.dumps(record.parameters), json.dumps(record.state), record.training_rows,
                record.source_sql, record.source_fingerprint, record.content_hash, record.fit_seconds,
                json.dumps(record.holdout) if record.holdout is not None else None,
            ],
        )
        for key, array in record.arrays.items():
            dtype, shape, data = encode_array(array)
            con.execute(
                "INSERT INTO genesis.model_arrays VALUES (?, ?, ?, ?, ?, ?)",
                [record.name, record.version, key, dtype, shape, data],
            )
    return record


def model_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every stored model name, sorted."""
    return [row[0] for row in con.execute("SELECT DISTINCT name FROM genesis.models ORDER BY name").fetchall()]


def _not_found(con: duckdb.DuckDBPyConnection, name: str, version: int | None) -> ModelNotFoundError:
    names = model_names(con)
    if version is not None and name in names:
        versions = [row[0] for row in con.execute(
            "SELECT version FROM genesis.models WHERE name = ? ORDER BY version", [name]).fetchall()]
        return ModelNotFoundError(f"Model {name!r} has no version {version}; stored versions: {versions}.")
    close = difflib.get_close_matches(name, names, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    known = f" Known models: {', '.join(names)}." if names and not close else ""
    if not names:
        known = " No models are stored yet; create one with genesis_sql.fit(...) or SELECT genesis_fit(...)."
    return ModelNotFoundError(f"Unknown model {name!r}.{hint}{known}")


def resolve_version(con: duckdb.DuckDBPyConnection, ref: object) -> tuple[str, int, str]:
    """(name, version, content_hash) of a reference, latest version when none is given."""
    name, version = parse_model_ref(ref)
    if version is None:
        rows = con.execute(
            "SELECT version, content_hash FROM genesis.models WHERE name = ? ORDER BY version DESC LIMIT 1", [name]
        ).fetchall()
    else:
        rows = con.execute(
            "SELECT version, content_hash FROM genesis.models WHERE name = ? AND version = ?", [name, version]
        ).fetchall()
    if not rows:
        raise _not_found(con, name, version)
    return name, int(rows[0][0]), rows[0][1]


_COLUMNS = ("name, version, method, columns, parameters, state, training_rows, source_sql, source_fingerprint, "
            "fit_seconds, holdout, content_hash, created_at")


def load_model(con: duckdb.DuckDBPyConnection, ref: object) -> ModelRecord:
    """Read one model version (latest when ``ref`` has no ``@N``) and check its content hash."""
    name, version, _ = resolve_version(con, ref)
    row = con.execute(f"SELECT {_COLUMNS} FROM genesis.models WHERE name = ? AND version = ?", [name, version]).fetchall()[0]
    try:
        arrays = {
            key: decode_array(dtype, shape, data)
            for key, dtype, shape, data in con.execute(
                "SELECT key, dtype, shape, data FROM genesis.model_arrays WHERE name = ? AND version = ?",
                [name, version]).fetchall()
        }
        record = ModelRecord(
            name=row[0], version=row[1], method=row[2], columns=json.loads(row[3]), parameters=json.loads(row[4]),
            state=json.loads(row[5]), arrays=arrays, training_rows=row[6], source_sql=row[7],
            source_fingerprint=row[8], fit_seconds=row[9], holdout=json.loads(row[10]) if row[10] else None,
            content_hash=row[11], created_at=row[12],
        )
    except (CatalogError, ValueError, TypeError) as exc:
        raise _corrupt(f"{name}@{version}", exc) from exc
    if record.compute_content_hash() != record.content_hash:
        raise _corrupt(record.ref, "its stored content does not match its content hash.")
    return record


def _corrupt(ref: str, cause: object) -> CatalogError:
    """The error for a stored model version that cannot be used, naming it and the way out."""
    reason = cause if isinstance(cause, str) else (
        str(cause) if isinstance(cause, CatalogError) else f"its stored state cannot be read ({type(cause).__name__}: "
                                                            f"{str(cause)[:200]}).")
    return CatalogError(f"Model {ref} is corrupt: {reason} Refit it, or drop this version with "
                        f"genesis_drop('{ref}').")


def restore_synthesizer(record: ModelRecord) -> BaseSynthesizer:
    """The fitted synthesizer of a stored version, rebuilt from its state and tried on one row.

    Stored state is data that someone may have edited (and re-hashed): whatever in it does not rebuild
    a working model is reported as a CatalogError naming the version, so that one bad row never breaks
    ``install``, the listing, dropping or the other models.

    Raises:
        CatalogError: the state does not rebuild a model that generates.
        MissingDependencyError: the model needs an optional package that is not installed.
    """
    from genesis_sql.models import synthesizer_class
    from genesis_sql.schema import ColumnSpec

    try:
        columns = [ColumnSpec.from_dict(c) for c in record.columns]
        model = synthesizer_class(record.method).from_state(record.parameters, columns, record.state, record.arrays)
        made = model.sample_rows(np.zeros(1, dtype=np.int64), key=0).column_names
        if made != [c.name for c in columns]:
            raise CatalogError(f"it generates the columns {made}, not its stored columns "
                               f"{[c.name for c in columns]}.")
    except MissingDependencyError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to rebuild is the stored row's corruption
        raise _corrupt(record.ref, exc) from exc
    return model


def list_versions(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, str]]:
    """(name, version, content_hash) of every stored model version."""
    return [tuple(r) for r in con.execute(
        "SELECT name, version, content_hash FROM genesis.models ORDER BY name, version").fetchall()]


def drop_model(con: duckdb.DuckDBPyConnection, ref: object) -> int:
    """Remove every version of a model (or one, with ``@N``); returns how many versions were removed.

    A dropped version's number stays taken while the name has other versions; dropping the last one
    forgets the name, so that fitting it again starts at version 1.
    """
    name, version = parse_model_ref(ref)
    if version is None:
        if name not in model_names(con):
            raise _not_found(con, name, None)
    else:
        resolve_version(con, ref)
    _require_writable(con, f"drop {ref!r}")
    where, params = ("name = ?", [name]) if version is None else ("name = ? AND version = ?", [name, version])
    with transaction(con):
        count = con.execute(f"SELECT count(*) FROM genesis.models WHERE {where}", params).fetchall()[0][0]
        con.execute(f"DELETE FROM genesis.model_arrays WHERE {where}", params)
        con.execute(f"DELETE FROM genesis.models WHERE {where}", params)
        if not con.execute("SELECT count(*) FROM genesis.models WHERE name = ?", [name]).fetchall()[0][0]:
            con.execute("DELETE FROM genesis.model_versions WHERE name = ?", [name])
    return int(count)
