#!/usr/bin/env bash
# make bench, tracking: MLflow log-batch of 1,000 metrics (target <= 20 ms).
# 1. The store alone vs. the SQLite floor (log_batch_bench, Google Benchmark).
# 2. The HTTP round trip against the real binary: 200 POSTs of
#    /api/2.0/mlflow/runs/log-batch with 1,000 metrics each (curl, keep-alive off,
#    so each time includes connecting), median and p99 of curl's time_total.
#   bench/tracking_bench.sh BUILD_DIR
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

echo "## Tracking: log-batch of 1,000 metrics"
"$BUILD/log_batch_bench" --benchmark_format=console 2>/dev/null | grep -E "^BM_" | \
  awk '{ printf "- %s: %s %s per batch\n", $1, $2, $3; t[NR]=$2 } END { if (t[2] > 0) printf "- ratio closedloop / SQLite floor: %.2f\n", t[1] / t[2] }'

"$BUILD/closedloop" up --insecure --no-demo --data-dir "$WORK/data" --listen 127.0.0.1:0 --log-level warn \
  > "$WORK/cl.out" 2> "$WORK/cl.err" &
pids+=($!)
for _ in $(seq 1 300); do grep -q "closedloop ready" "$WORK/cl.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'ready: http://[^ ]*' "$WORK/cl.out" | sed 's/ready: //')
[[ -n "$URL" ]] || { cat "$WORK/cl.err"; exit 1; }
API=$URL/api/2.0/mlflow
EXP=$(curl -fsS -H 'Content-Type: application/json' -d '{"name":"bench"}' "$API/experiments/create" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])')
RUN=$(curl -fsS -H 'Content-Type: application/json' -d "{\"experiment_id\":\"$EXP\"}" "$API/runs/create" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')
for i in $(seq 0 199); do
  python3 -c "
import json
print(json.dumps({'run_id': '$RUN', 'metrics': [
  {'key': 'metric_%d' % (j % 20), 'value': 0.5 + j * 1e-4, 'timestamp': 1795000000000 + $i,
   'step': $i * 50 + j // 20} for j in range(1000)]}))" > "$WORK/batch-$i.json"
done
for i in $(seq 0 199); do
  curl -fsS -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
    --data-binary "@$WORK/batch-$i.json" "$API/runs/log-batch"
done > "$WORK/times.txt"
BYTES=$(stat -c %s "$WORK/batch-0.json")
sort -n "$WORK/times.txt" | awk -v bytes="$BYTES" '{ t[NR]=$1 } END {
  printf "- HTTP log-batch (real binary, %d-byte body, 200 requests): median %.2f ms, p99 %.2f ms\n",
    bytes, t[int(NR*0.5)]*1000, t[int(NR*0.99)]*1000 }'
