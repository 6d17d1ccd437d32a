#!/usr/bin/env bash
# OIP inference on a small ONNX MLP (32 -> 128 -> 64 -> 10): closedloop (OpenCV DNN)
# vs Node.js + fastify + onnxruntime-node (the real ONNX Runtime) on the same file,
# same wrk load, one run; then closedloop with dynamic batching off / 8 / 32 / 64 at
# 64 concurrent clients. Prints a markdown table and the ratios.
#   bench/onnx_bench.sh BUILD_DIR     (env: DURATION=10 CONNECTIONS=64 THREADS=2)
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
OUT=$HERE/results
source "$HERE/lib.sh"

if [[ ! -d "$HERE/node_modules/onnxruntime-node" ]]; then
  (cd "$HERE" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null)
fi

# The model, once, and one repository entry per batching setting.
"$BUILD/make_onnx_mlp" "$WORK/mlp.onnx"
"$BUILD/closedloop" onnx check "$WORK/mlp.onnx" > "$OUT/onnx-check.txt"
for variant in mlp:1 mlp_b8:8 mlp_b32:32 mlp_b64:64; do
  name=${variant%%:*} batch=${variant##*:}
  mkdir -p "$WORK/data/models/$name/1"
  cp "$WORK/mlp.onnx" "$WORK/data/models/$name/1/model.onnx"
  printf 'flavor = "onnx"\n[batching]\nmax_batch_size = %s\nmax_queue_delay_us = 500\nmax_queue_size = 4096\n' \
    "$batch" > "$WORK/data/models/$name/1/config.toml"
done

"$BUILD/closedloop" up --insecure --no-demo --data-dir "$WORK/data" --listen 127.0.0.1:0 --log-level warn \
  > "$WORK/cl.out" 2> "$WORK/cl.err" &
pids+=($!)
for _ in $(seq 1 300); do grep -q "closedloop ready" "$WORK/cl.out" 2>/dev/null && break; sleep 0.1; done
CL_PORT=$(grep -o 'ready: http://[^ ]*' "$WORK/cl.out" | sed 's/.*://')
[[ -n "$CL_PORT" ]] || { cat "$WORK/cl.err"; exit 1; }

PEER_PORT=$(free_port)
MODEL="$WORK/mlp.onnx" PORT=$PEER_PORT node "$HERE/peers/onnx_peer.js" > "$WORK/peer.log" 2>&1 &
pids+=($!)
BODY=$(lua5.1 -e 'dofile("'"$HERE"'/infer.lua"); print(wrk.body)' 2>/dev/null ||
       python3 -c "import math; print('{\"inputs\":[{\"name\":\"X\",\"shape\":[1,32],\"datatype\":\"FP32\",\"data\":[' + ','.join('%.3f' % math.sin(i*0.7) for i in range(1,33)) + ']}]}')")
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "$BODY" \
    "http://127.0.0.1:$PEER_PORT/v2/models/mlp/infer" 2>/dev/null && break
  sleep 0.1
done

# Same input, same answer: closedloop (OpenCV) and ONNX Runtime agree.
python3 - "$CL_PORT" "$PEER_PORT" "$BODY" <<'PY'
import json, sys, urllib.request
def infer(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v2/models/mlp/infer", data=sys.argv[3].encode(),
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["outputs"][0]["data"]
a, b = infer(sys.argv[1]), infer(sys.argv[2])
diff = max(abs(x - y) for x, y in zip(a, b))
assert len(a) == len(b) == 10 and diff < 1e-4, (a, b)
print(f"outputs agree: max |closedloop - onnxruntime| = {diff:.2e}", file=sys.stderr)
PY

run_wrk() {  # name url
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$HERE/infer.lua" "$2" > /dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$HERE/infer.lua" "$2" \
    > "$OUT/wrk-onnx-$1.txt"
  wrk_summary "$OUT/wrk-onnx-$1.txt"
}
read -r cl_rps cl_p50 cl_p99 cl_bad <<< "$(run_wrk closedloop "http://127.0.0.1:$CL_PORT/v2/models/mlp/infer")"
read -r pe_rps pe_p50 pe_p99 pe_bad <<< "$(run_wrk onnxruntime "http://127.0.0.1:$PEER_PORT/v2/models/mlp/infer")"
SWEEP=""
for b in 8 32 64; do
  read -r rps p50 p99 bad <<< "$(run_wrk "b$b" "http://127.0.0.1:$CL_PORT/v2/models/mlp_b$b/infer")"
  SWEEP+="| closedloop, dynamic batching max_batch_size=$b (500 µs) | $rps | $p50 | $p99 | $bad |"$'\n'
done
BATCHES=$(curl -s "http://127.0.0.1:$CL_PORT/metrics" | awk '/^closedloop_batch_size_(sum|count)\{model="mlp_b32"/ {print $2}' | paste -sd' ')

{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s bench/infer.lua (one FP32 row of 32 per request)"
  echo
  echo "| target | req/s | p50 | p99 | non-2xx |"
  echo "|---|---:|---:|---:|---:|"
  echo "| closedloop OIP infer (OpenCV DNN), no batching | $cl_rps | $cl_p50 | $cl_p99 | $cl_bad |"
  echo "| Node.js fastify + onnxruntime-node $(node -e "console.log(require('$HERE/node_modules/onnxruntime-node/package.json').version)") ($(nproc) workers) | $pe_rps | $pe_p50 | $pe_p99 | $pe_bad |"
  printf "%s" "$SWEEP"
  echo
  echo "- closedloop / onnxruntime-node throughput: **$(python3 -c "print(f'{$cl_rps/$pe_rps:.2f}')")x** (target >= 2x at equal or better p99)"
  echo "- mlp_b32 batches: sum of rows and count: $BATCHES"
} | tee "$OUT/onnx-latest.md"
