#!/usr/bin/env bash
# A lineage audit from the shell: sign every block, fit and generate, keep a checkpoint outside the
# database, prove one block's inclusion, and show that tampering is caught.
#   bash examples/lineage_audit.sh [WORKDIR]     (default: a fresh temporary folder, removed afterwards)
set -euo pipefail
GENESIS=${GENESIS:-genesis}
WORK=${1:-$(mktemp -d)}
[ -n "${1:-}" ] || trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
DB=audit.duckdb
CSV=$(python -c "from importlib import resources; print(resources.files('genesis_sql') / '_data' / 'benefits.csv')")

"$GENESIS" lineage keygen audit.key                       # audit.key + audit.key.pub
export GENESIS_LINEAGE_KEY=$PWD/audit.key                 # every new block is signed
"$GENESIS" --db $DB fit workers --sql "SELECT * FROM read_csv('$CSV')" --method copula
"$GENESIS" --db $DB generate workers 2000 --seed 1 --where "age > 50" --out older.parquet
"$GENESIS" --db $DB lineage show workers
"$GENESIS" --db $DB lineage checkpoint > checkpoint.json  # keep this outside the database
"$GENESIS" --db $DB lineage verify --trusted-key audit.key.pub --checkpoint checkpoint.json
BLOCK=$(python -c "import duckdb; print(duckdb.connect('$DB', read_only=True).execute('SELECT block_id FROM genesis.lineage ORDER BY seq DESC LIMIT 1').fetchall()[0][0])")
"$GENESIS" --db $DB lineage prove "$BLOCK" --checkpoint checkpoint.json > proof.json
"$GENESIS" lineage verify-proof proof.json --trusted-key audit.key.pub

# Tamper with the recorded generation: verification must now fail.
python -c "import duckdb; duckdb.connect('$DB').execute(\"UPDATE genesis.lineage SET content = replace(content, '2000', '2001') WHERE block_id = '$BLOCK'\")"
if "$GENESIS" --db $DB lineage verify --trusted-key audit.key.pub --checkpoint checkpoint.json; then
    echo "tampering was NOT detected" >&2
    exit 1
fi
echo "audit ok: the intact chain verified, the tampered one was refused"
