-- The genesis catalog: migrations ledger, model registry, and the tables later features write to.
CREATE SCHEMA IF NOT EXISTS genesis;

CREATE TABLE genesis.schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    checksum    VARCHAR NOT NULL,
    applied_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- One row per model version. Learned state is JSON plus named numeric arrays (genesis.model_arrays):
-- data only, so opening a database never runs code stored in it.
CREATE TABLE genesis.models (
    name                VARCHAR NOT NULL,
    version             INTEGER NOT NULL,
    method              VARCHAR NOT NULL,
    columns             JSON NOT NULL,
    parameters          JSON NOT NULL,
    state               JSON NOT NULL,
    training_rows       BIGINT NOT NULL,
    source_sql          VARCHAR NOT NULL,
    source_fingerprint  VARCHAR NOT NULL,
    content_hash        VARCHAR NOT NULL,
    fit_seconds         DOUBLE NOT NULL,
    holdout             JSON,
    created_at          TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (name, version)
);

CREATE TABLE genesis.model_arrays (
    name     VARCHAR NOT NULL,
    version  INTEGER NOT NULL,
    key      VARCHAR NOT NULL,
    dtype    VARCHAR NOT NULL,
    shape    BIGINT[] NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (name, version, key)
);

-- The hash-linked lineage chain (written by the lineage feature).
CREATE TABLE genesis.lineage (
    seq            BIGINT PRIMARY KEY,
    block_id       VARCHAR NOT NULL UNIQUE,
    block_type     VARCHAR NOT NULL,
    timestamp      VARCHAR NOT NULL,
    previous_hash  VARCHAR NOT NULL,
    data_hash      VARCHAR NOT NULL,
    content        VARCHAR NOT NULL,
    hash           VARCHAR NOT NULL,
    signature      VARCHAR
);

-- Quality evaluations: one row per run, one row per metric value.
CREATE TABLE genesis.quality_runs (
    run_id         VARCHAR PRIMARY KEY,
    model          VARCHAR NOT NULL,
    model_version  INTEGER NOT NULL,
    created_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    real_sql       VARCHAR NOT NULL,
    holdout_sql    VARCHAR,
    target         VARCHAR,
    n_real         BIGINT NOT NULL,
    n_synthetic    BIGINT NOT NULL,
    seed           BIGINT NOT NULL,
    overall        DOUBLE,
    scores         JSON NOT NULL
);

CREATE TABLE genesis.quality_metrics (
    run_id     VARCHAR NOT NULL,
    category   VARCHAR NOT NULL,
    metric     VARCHAR NOT NULL,
    column_1   VARCHAR,
    column_2   VARCHAR,
    value      DOUBLE,
    available  BOOLEAN NOT NULL DEFAULT true,
    detail     JSON
);

-- Differential-privacy spend per model (epsilon, delta), for the privacy accountant.
CREATE TABLE genesis.privacy_budget (
    model       VARCHAR NOT NULL,
    version     INTEGER,
    mechanism   VARCHAR NOT NULL,
    epsilon     DOUBLE NOT NULL,
    delta       DOUBLE NOT NULL DEFAULT 0,
    note        VARCHAR,
    spent_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);
