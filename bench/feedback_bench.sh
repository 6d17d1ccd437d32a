#!/usr/bin/env bash
# make bench, feedback ingest: POST /v1/feedback:batch (1,000 items a request) from 4
# keep-alive connections for 10 s against the real binary (target: >= 20,000 events/s
# acknowledged durably); then the same with a SIGKILL after 5 s, and the feedback rows
# in SQLite compared with the acknowledged count.
#   bench/feedback_bench.sh BUILD_DIR
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
source "$HERE/lib.sh"
DATA=$WORK/data
mkdir -p "$DATA/models"
"$BUILD/closedloop" train text --input "$ROOT/examples/support/data/train.csv" --label-col category \
  --output "$DATA/models/support-intent/1" --epoch 5 --dim 16 --minn 0 --maxn 0 --bucket 20000 \
  --no-tracking --progress never > /dev/null

start_server() {
  "$BUILD/closedloop" up --insecure --no-demo --data-dir "$DATA" --listen 127.0.0.1:0 --log-level warn \
    > "$WORK/cl.out" 2> "$WORK/cl.err" &
  SERVER=$!
  pids+=($SERVER)
  for _ in $(seq 1 300); do grep -q "closedloop ready" "$WORK/cl.out" 2>/dev/null && break; sleep 0.1; done
  URL=$(grep -o 'ready: http://[^ ]*' "$WORK/cl.out" | sed 's/ready: //')
}
start_server
for i in $(seq 1 200); do
  curl -fsS -H 'Content-Type: application/json' -d "{\"model\":\"support-intent\",\"text\":\"card $i\"}" \
    "$URL/v1/predict" | python3 -c 'import json,sys; print(json.load(sys.stdin)["request_id"])'
done > "$WORK/ids.txt"

echo "## Feedback ingest (batch endpoint, durable acknowledgements)"
python3 "$HERE/feedback_load.py" "$URL" "$WORK/ids.txt" 10 4 | sed 's/^/- steady 10 s: /'

rows_before=$(python3 -c "import sqlite3; print(sqlite3.connect('$DATA/predictions.db').execute('select count(*) from feedback').fetchone()[0])")
python3 "$HERE/feedback_load.py" "$URL" "$WORK/ids.txt" 10 4 "$WORK/acked.txt" > "$WORK/kill.json" &
LOAD=$!
sleep 5
kill -9 "$SERVER"
wait "$LOAD" || true
acked=$(cat "$WORK/acked.txt")
rows=$(python3 -c "import sqlite3; print(sqlite3.connect('$DATA/predictions.db').execute('select count(*) from feedback').fetchone()[0])")
echo "- SIGKILL after 5 s: acknowledged $acked, rows added in SQLite $((rows - rows_before)) (must be >= acknowledged; more = committed but not yet answered)"
