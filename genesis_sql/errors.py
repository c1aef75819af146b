"""The exceptions genesis-sql raises on purpose.

Every one is a :class:`GenesisError`, so ``except genesis_sql.GenesisError`` catches them all. When one is
raised inside a genesis function called from SQL, DuckDB re-raises it with ``ClassName: message`` in its
text, so the class name is visible from any client.

    GenesisError                    base class; never raised bare
    ├── InvalidArgumentError        a bad argument: n, seed, method, options, paths, formats
    ├── InvalidModelNameError       a model name outside ^[a-z_][a-z0-9_]*(@N)?$
    ├── ModelNotFoundError          the name (or version) is not in the catalog; suggests close names
    ├── FitError                    the training query failed, returned no rows, or no usable column
    ├── UnsupportedColumnTypeError  LIST / STRUCT / MAP / BLOB ... columns in the training data
    ├── ConditionError              a `condition` that cannot be used
    │   ├── ConditionSyntaxError    it does not parse, or uses something outside the grammar
    │   ├── UnknownColumnError      it names a column the model does not have
    │   ├── InfeasibleConditionError  no training support at all (names the condition and the support)
    │   └── RareConditionError      estimated probability below 1e-6 (names it)
    ├── CatalogError                the genesis catalog is missing, newer than this package, or corrupt
    │   └── MigrationError          a migration failed (the database is left as it was)
    ├── EvaluationError             a quality evaluation cannot run: its query fails, returns no rows or
    │                               columns that do not match the model, or the target is unusable
    ├── RunNotFoundError            no stored quality run has the given id
    ├── MissingDependencyError      an optional part needs a package that is not installed (names the extra)
    ├── DatabaseLockedError         another process holds the DuckDB file longer than the retry window
    ├── LineageError                lineage input, key files, checkpoints or proofs that cannot be used
    │   └── LineageVerificationError  the chain, an export, a checkpoint or a proof failed verification
    ├── IntegrationError            an external system (Kafka, WebSocket, browser ...) failed or is unreachable
    │   └── DistributedError        a Dask cluster cannot be reached, has no workers, or a part failed
    └── FederatedError              federated training cannot go on: too few sites, more dropouts than the
                                    threshold, a refused (unsigned or tampered) update, a spent budget

One warning: ``LineageNotRecordedWarning`` (a UserWarning), when output is made from a database opened
read-only, where no lineage block can be written.
"""
from __future__ import annotations

__all__ = [
    "CatalogError",
    "ConditionError",
    "ConditionSyntaxError",
    "DatabaseLockedError",
    "DistributedError",
    "EvaluationError",
    "FederatedError",
    "FitError",
    "GenesisError",
    "InfeasibleConditionError",
    "IntegrationError",
    "InvalidArgumentError",
    "InvalidModelNameError",
    "LineageError",
    "LineageNotRecordedWarning",
    "LineageVerificationError",
    "MigrationError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "RareConditionError",
    "RunNotFoundError",
    "UnknownColumnError",
    "UnsupportedColumnTypeError",
]


class GenesisError(Exception):
    """Base class of every error genesis-sql raises on purpose."""


class InvalidArgumentError(GenesisError, ValueError):
    """An argument has the wrong type or value."""


class InvalidModelNameError(InvalidArgumentError):
    """A model name does not match ``^[a-z_][a-z0-9_]*$`` (optionally ``@N``)."""


class ModelNotFoundError(GenesisError, LookupError):
    """The model, or the requested version of it, is not in the catalog."""


class FitError(GenesisError):
    """Fitting could not start or finish: bad source query, no rows, no usable columns."""


class UnsupportedColumnTypeError(FitError):
    """The training data has columns of a type no synthesizer models (LIST, STRUCT, MAP, BLOB ...)."""


class ConditionError(GenesisError, ValueError):
    """A generation condition cannot be used."""


class ConditionSyntaxError(ConditionError):
    """The condition does not parse or steps outside the condition grammar."""


class UnknownColumnError(ConditionError):
    """The condition names a column the model does not have."""


class InfeasibleConditionError(ConditionError):
    """No row the model can produce satisfies the condition."""


class RareConditionError(ConditionError):
    """The condition's estimated probability is below the 1e-6 floor."""


class CatalogError(GenesisError):
    """The genesis catalog is missing, from a newer version, or inconsistent."""


class MigrationError(CatalogError):
    """A catalog migration failed; the database was rolled back."""


class EvaluationError(GenesisError, ValueError):
    """A quality evaluation cannot run on the given queries; nothing is stored."""


class RunNotFoundError(GenesisError, LookupError):
    """No stored quality run has the given id."""


class MissingDependencyError(GenesisError, ImportError):
    """An optional part (dashboard, reports ...) needs a package that is not installed."""


class DatabaseLockedError(GenesisError):
    """Another process holds the DuckDB file for longer than the retry window."""


class LineageError(GenesisError):
    """Lineage input, a key file, a checkpoint or a proof cannot be used as given."""


class LineageVerificationError(LineageError):
    """The lineage chain, an export, a checkpoint or an inclusion proof failed verification."""


class IntegrationError(GenesisError):
    """An external system (Kafka broker, WebSocket peer, browser ...) failed or cannot be reached."""


class DistributedError(IntegrationError):
    """A Dask cluster cannot be reached, has no workers, or a part of a distributed job failed."""


class FederatedError(GenesisError):
    """Federated training cannot go on: too few sites, too many dropouts, a refused update, a spent budget."""


class LineageNotRecordedWarning(UserWarning):
    """Output was made but no lineage block was written (the database is open read-only)."""
