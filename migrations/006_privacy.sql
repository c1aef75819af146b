-- The privacy budget ledger keys each spend by the base table it was computed from (a fit over a join
-- spends on every table it reads), and keeps a per-source limit (default 10 when no row is here).
ALTER TABLE genesis.privacy_budget ADD COLUMN source VARCHAR;

CREATE TABLE genesis.privacy_limits (
    source      VARCHAR PRIMARY KEY,
    epsilon     DOUBLE NOT NULL,
    updated_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);
