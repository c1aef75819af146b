-- genesis_lineage_verify(): checks the whole lineage chain and returns one row
-- (ok, blocks, first_bad_block, reason). Optional: checkpoint := 'cp.json' (a checkpoint file kept
-- elsewhere) and trusted_key := 'key.pub' (else GENESIS_LINEAGE_PUBKEY is used when set).
CREATE OR REPLACE MACRO genesis_lineage_verify(checkpoint := NULL, trusted_key := NULL) AS TABLE
    SELECT unnest({python:genesis_lineage_verify}(checkpoint, trusted_key));
