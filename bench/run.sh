#!/usr/bin/env bash
# make bench: closedloop /v1/predict vs. a FastAPI+uvicorn peer serving the same
# fastText model, and nginx returning a static 200 (this machine's HTTP ceiling).
# Same wrk settings for all three in one run; then p50/p99 of closedloop at half
# its measured max throughput (autocannon, fixed rate). Prints a markdown table.
#   bench/run.sh BUILD_DIR           (env: DURATION=10 CONNECTIONS=64 THREADS=2)
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
BIN=$BUILD/closedloop
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
OUT=$HERE/results
mkdir -p "$OUT"
source "$HERE/lib.sh"
wait_http() {  # URL [curl args]: bounded wait until it answers
  local url=$1; shift
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$@" "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "bench: $url did not come up" >&2; return 1
}

# onnxruntime-node would fetch extra binaries from the internet at install; the CPU build ships in the package.
if [[ ! -d "$HERE/node_modules/autocannon" ]]; then
  (cd "$HERE" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null)
fi

# 1. closedloop, with the demo model (trained on first use) and its prediction log on.
DATA=$OUT/data
rm -f "$DATA"/predictions.db*  # every run starts with an empty prediction log
"$BIN" up --insecure --data-dir "$DATA" --listen 127.0.0.1:0 --log-level warn \
  --examples-dir "$ROOT/examples/support" > "$WORK/cl.out" 2> "$WORK/cl.err" &
pids+=($!)
for _ in $(seq 1 600); do grep -q "closedloop ready" "$WORK/cl.out" 2>/dev/null && break; sleep 0.1; done
CL_PORT=$(grep -o 'ready: http://[^ ]*' "$WORK/cl.out" | sed 's/.*://')
[[ -n "$CL_PORT" ]] || { cat "$WORK/cl.err"; exit 1; }
MODEL=$DATA/models/support-intent/1/model.bin

# 2. FastAPI + uvicorn peer on the same model file, one worker per core.
PEER_PORT=$(free_port)
MODEL=$MODEL /usr/bin/python3 -m uvicorn --app-dir "$HERE/peers" fastapi_peer:app \
  --host 127.0.0.1 --port "$PEER_PORT" --workers "$(nproc)" --log-level warning \
  > "$WORK/peer.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$PEER_PORT/v1/predict" -X POST -H 'Content-Type: application/json' \
  -d '{"model":"support-intent","text":"card"}'

# 3. nginx static 200.
NGX_PORT=$(free_port)
mkdir -p "$WORK/nginx"
sed -e "s|@DIR@|$WORK/nginx|g" -e "s|@PORT@|$NGX_PORT|g" "$HERE/peers/nginx.conf.in" > "$WORK/nginx/nginx.conf"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>"$WORK/nginx/start.log" &
pids+=($!)
wait_http "http://127.0.0.1:$NGX_PORT/"

run_wrk() {  # name url [script]
  local name=$1 url=$2 script=${3:-}
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency)
  [[ -n "$script" ]] && args+=(-s "$script")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s ${script:+-s "$script"} "$url" > /dev/null  # warm-up
  wrk "${args[@]}" "$url" > "$OUT/wrk-$name.txt"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$OUT/wrk-$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/wrk-$name.txt")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$OUT/wrk-$name.txt" | tr '\n' ' ')
  echo "$name $rps $p50 $p99 ${errors:-none}"
}

CL=$(run_wrk closedloop "http://127.0.0.1:$CL_PORT" "$HERE/predict.lua")
PEER=$(run_wrk fastapi "http://127.0.0.1:$PEER_PORT" "$HERE/predict.lua")
NGX=$(run_wrk nginx "http://127.0.0.1:$NGX_PORT/")

read -r _ cl_rps cl_p50 cl_p99 _ <<< "$CL"
read -r _ peer_rps peer_p50 peer_p99 _ <<< "$PEER"
read -r _ ngx_rps ngx_p50 ngx_p99 _ <<< "$NGX"

# 4. closedloop at half its max throughput, fixed rate (autocannon --overallRate), with
#    16 and with $CONNECTIONS connections; nginx at the same offered rate calibrates how
#    much of the tail the (single-threaded Node) load generator itself adds.
HALF=$(python3 -c "print(int(float('$cl_rps')/2))")
fixed_rate() {  # name url connections [post]
  local args=(-c "$3" -d "$DURATION" --overallRate "$HALF" --json)
  if [[ "${4:-}" == post ]]; then
    args+=(-m POST -H 'Content-Type=application/json'
           -b '{"model":"support-intent","text":"I still have not received my new card"}')
  fi
  "$HERE/node_modules/.bin/autocannon" "${args[@]}" "$2" > "$OUT/autocannon-$1-c$3.json" 2>/dev/null
  python3 -c "
import json; d=json.load(open('$OUT/autocannon-$1-c$3.json'))
print(f\"| $1 | $3 | {d['requests']['average']:.0f} | {d['latency']['p50']} | {d['latency']['p90']} | {d['latency']['p99']} | {d['non2xx']} |\")"
}
FIXED=$(
  fixed_rate closedloop "http://127.0.0.1:$CL_PORT/v1/predict" 16 post
  fixed_rate nginx "http://127.0.0.1:$NGX_PORT/" 16
  fixed_rate closedloop "http://127.0.0.1:$CL_PORT/v1/predict" "$CONNECTIONS" post
  fixed_rate nginx "http://127.0.0.1:$NGX_PORT/" "$CONNECTIONS"
)
DROPPED=$(curl -s "http://127.0.0.1:$CL_PORT/metrics" | awk '/^closedloop_prediction_log_dropped_total/ {print $2}')
WRITTEN=$(curl -s "http://127.0.0.1:$CL_PORT/metrics" | awk '/^closedloop_prediction_log_written_total/ {print $2}')

ratio() { python3 -c "print(f'{float(\"$1\")/float(\"$2\"):.2f}')"; }
{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency (same for all); predict body: bench/predict.lua"
  echo
  echo "| target | req/s | p50 | p99 |"
  echo "|---|---:|---:|---:|"
  echo "| closedloop /v1/predict (fastText, prediction log on) | $cl_rps | $cl_p50 | $cl_p99 |"
  echo "| FastAPI + uvicorn ($(nproc) workers), same model | $peer_rps | $peer_p50 | $peer_p99 |"
  echo "| nginx static 200 | $ngx_rps | $ngx_p50 | $ngx_p99 |"
  echo
  echo "- closedloop / FastAPI throughput: **$(ratio "$cl_rps" "$peer_rps")x** (target >= 10x)"
  echo "- closedloop / nginx throughput: **$(ratio "$cl_rps" "$ngx_rps")** (target >= 0.40)"
  echo "- prediction log during the run: $WRITTEN written, $DROPPED dropped"
  echo
  echo "Fixed rate at half of closedloop's max ($HALF req/s offered), autocannon, latency in ms:"
  echo
  echo "| target | connections | achieved req/s | p50 | p90 | p99 | non-2xx |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  echo "$FIXED"
  echo
  echo "Prediction log writer alone (bench/prediction_log_bench.cc, Google Benchmark):"
  echo
  echo '```'
  "$BUILD/prediction_log_bench" 2>/dev/null | grep -E '^BM_'
  echo '```'
} | tee "$OUT/latest.md"
