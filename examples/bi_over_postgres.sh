#!/usr/bin/env bash
# BI tools over the Postgres wire protocol: serve a genesis database, then query it with psql as a BI
# tool would (list the model views, filter one, get exactly the rows asked for).
#   bash examples/bi_over_postgres.sh [WORKDIR]    (default: a fresh temporary folder, removed afterwards)
# Needs psql (Debian: postgresql-client). See bi_over_postgres.md for connection strings of BI tools.
set -euo pipefail
GENESIS=${GENESIS:-genesis}
WORK=${1:-$(mktemp -d)}
[ -n "${1:-}" ] || trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
PG_PORT=${PG_PORT:-55433}
HTTP_PORT=${HTTP_PORT:-58050}
CSV=$(python -c "from importlib import resources; print(resources.files('genesis_sql') / '_data' / 'benefits.csv')")

"$GENESIS" --db bi.duckdb fit workers --sql "SELECT * FROM read_csv('$CSV')" --method copula
printf 'analyst:%s\n' "example-password" > users.txt
"$GENESIS" --db bi.duckdb serve --pg "127.0.0.1:$PG_PORT" --http "127.0.0.1:$HTTP_PORT" --users users.txt &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; [ -n "${1:-}" ] || rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do
    PGPASSWORD=example-password psql -h 127.0.0.1 -p "$PG_PORT" -U analyst -d genesis -qAt -c "SELECT 1" \
        >/dev/null 2>&1 && break
    sleep 0.5
done

export PGPASSWORD=example-password
PSQL=(psql -h 127.0.0.1 -p "$PG_PORT" -U analyst -d genesis -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c '\dv synthetic.*'
ROWS=$("${PSQL[@]}" -qAt -c "SELECT count(*), count(*) FILTER (WHERE age > 50 AND state = 93)
                             FROM (SELECT * FROM synthetic.workers WHERE age > 50 AND state = 93) AS filtered")
echo "synthetic.workers WHERE age > 50 AND state = 93 -> $ROWS (rows, matching)"
[ "$ROWS" = "10000|10000" ] || { echo "expected 10000|10000" >&2; exit 1; }
if "${PSQL[@]}" -c "DROP TABLE genesis.models" 2>err.txt; then
    echo "a write was allowed over the wire" >&2; exit 1
fi
echo "refused as read-only: $(head -1 err.txt)"
