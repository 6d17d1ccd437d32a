#!/usr/bin/env bash
# Image inference: POST /v1/inference with a 224x224x3 JSON pixel array against a
# PyTorch-style CNN (scripts/make_cnn_onnx.py: Conv/BatchNorm/Relu/MaxPool/GAP/Gemm),
# closedloop (OpenCV DNN, with and without dynamic batching) vs Node.js + fastify +
# onnxruntime-node (bench/peers/image_peer.js) on the same file and body, one run:
#   1. closed loop, wrk: req/s, p50, p95, p99 at 16 connections;
#   2. open loop at a fixed offered rate (autocannon --overallRate, default 1,000 req/s,
#      the image workload's target: p95 <= 100 ms with < 1% errors): achieved rate,
#      p90 / p97.5 / p99, errors;
#   3. the JSON parsing of the body apart: build/image_json_bench (simdjson) beside
#      Node's JSON.parse of the same bytes.
#   bench/image_bench.sh BUILD_DIR   (env: DURATION=10 CONNECTIONS=16 RATE=1000)
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
RATE=${RATE:-1000}
OUT=$HERE/results
mkdir -p "$OUT"
source "$HERE/lib.sh"
if [[ ! -d "$HERE/node_modules/onnxruntime-node" ]]; then
  (cd "$HERE" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
fi

/usr/bin/python3 "$ROOT/scripts/make_cnn_onnx.py" "$WORK/cnn.onnx" --size 224
"$BUILD/closedloop" onnx check "$WORK/cnn.onnx" > "$OUT/image-onnx-check.txt"
IMAGE='[image]
width = 224
height = 224
channels = 3
input = "input"
output = "output"
softmax = true
embedding_output = "features"
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]'
LABELS='labels = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]'
for variant in cnn:1 cnn_b8:8; do
  name=${variant%%:*} batch=${variant##*:}
  mkdir -p "$WORK/data/models/$name/1"
  cp "$WORK/cnn.onnx" "$WORK/data/models/$name/1/model.onnx"
  printf 'flavor = "onnx"\n%s\n[batching]\nmax_batch_size = %s\nmax_queue_delay_us = 2000\nmax_queue_size = 4096\n%s\n' \
    "$LABELS" "$batch" "$IMAGE" > "$WORK/data/models/$name/1/config.toml"
done
"$BUILD/closedloop" up --insecure --no-demo --data-dir "$WORK/data" --listen 127.0.0.1:0 --log-level warn \
  > "$WORK/cl.out" 2> "$WORK/cl.err" &
pids+=($!)
for _ in $(seq 1 300); do grep -q "closedloop ready" "$WORK/cl.out" 2>/dev/null && break; sleep 0.1; done
CL_PORT=$(grep -o 'ready: http://[^ ]*' "$WORK/cl.out" | sed 's/.*://')
[[ -n "$CL_PORT" ]] || { cat "$WORK/cl.err"; exit 1; }
PEER_PORT=$(free_port)
MODEL="$WORK/cnn.onnx" PORT=$PEER_PORT SIZE=224 node "$HERE/peers/image_peer.js" > "$WORK/peer.log" 2>&1 &
pids+=($!)

# One body for everyone: random 8-bit pixels, [224][224][3].
for m in cnn cnn_b8 peer; do
  /usr/bin/python3 - "$WORK/body-$m.json" "$m" <<'PY'
import json, random, sys
random.seed(11)
img = [[[random.randrange(256) for _ in range(3)] for _ in range(224)] for _ in range(224)]
body = {"image": img} if sys.argv[2] == "peer" else {"model": sys.argv[2], "image": img}
open(sys.argv[1], "w").write(json.dumps(body, separators=(",", ":")))
PY
done
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/body-peer.json" \
    "http://127.0.0.1:$PEER_PORT/v1/inference" 2>/dev/null && break
  sleep 0.1
done
# Same pixels, same answer: closedloop (OpenCV) and ONNX Runtime agree.
/usr/bin/python3 - "$CL_PORT" "$PEER_PORT" "$WORK" <<'PY'
import json, sys, urllib.request
def infer(port, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/inference", data=open(body, "rb").read(),
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
a, b = infer(sys.argv[1], sys.argv[3] + "/body-cnn.json"), infer(sys.argv[2], sys.argv[3] + "/body-peer.json")
assert a["label"] == b["label"] and abs(a["confidence"] - b["confidence"]) < 1e-4, (a, b)
print(f"answers agree: {a['label']} {a['confidence']:.6f} vs {b['confidence']:.6f}", file=sys.stderr)
PY

closed_loop() {  # name url body -> "rps p50 p99 bad p95"
  BODY_FILE=$3 BENCH_DIR=$HERE wrk -t2 -c"$CONNECTIONS" -d2s -s "$HERE/p95.lua" "$2" > /dev/null
  BODY_FILE=$3 BENCH_DIR=$HERE wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$HERE/p95.lua" "$2" \
    > "$OUT/wrk-image-$1.txt"
  echo "$(wrk_summary "$OUT/wrk-image-$1.txt") $(awk '/^p95_ms/ {print $2"ms"}' "$OUT/wrk-image-$1.txt")"
}
read -r cl_rps cl_p50 cl_p99 cl_bad cl_p95 <<< "$(closed_loop closedloop "http://127.0.0.1:$CL_PORT/v1/inference" "$WORK/body-cnn.json")"
read -r b8_rps b8_p50 b8_p99 b8_bad b8_p95 <<< "$(closed_loop closedloop-b8 "http://127.0.0.1:$CL_PORT/v1/inference" "$WORK/body-cnn_b8.json")"
read -r pe_rps pe_p50 pe_p99 pe_bad pe_p95 <<< "$(closed_loop onnxruntime "http://127.0.0.1:$PEER_PORT/v1/inference" "$WORK/body-peer.json")"

open_loop() {  # name url body
  "$HERE/node_modules/.bin/autocannon" -c 64 -d "$DURATION" --overallRate "$RATE" --json -m POST \
    -H 'Content-Type=application/json' -i "$3" "$2" > "$OUT/autocannon-image-$1.json" 2>/dev/null
  /usr/bin/python3 -c "
import json; d=json.load(open('$OUT/autocannon-image-$1.json'))
total = d['requests']['total'] + d['errors'] + d['timeouts']
bad = d['non2xx'] + d['errors'] + d['timeouts']
print(f\"| $1 | $RATE | {d['requests']['average']:.0f} | {d['latency']['p50']} | {d['latency']['p90']} | {d['latency']['p97_5']} | {d['latency']['p99']} | {100.0 * bad / max(1, total):.2f}% |\")"
}
OPEN=$(
  open_loop closedloop "http://127.0.0.1:$CL_PORT/v1/inference" "$WORK/body-cnn.json"
  open_loop closedloop-b8 "http://127.0.0.1:$CL_PORT/v1/inference" "$WORK/body-cnn_b8.json"
  open_loop onnxruntime "http://127.0.0.1:$PEER_PORT/v1/inference" "$WORK/body-peer.json"
)
BATCHES=$(curl -s "http://127.0.0.1:$CL_PORT/metrics" | awk '/^closedloop_batch_size_(sum|count)\{model="cnn_b8"/ {print $2}' | paste -sd' ')

"$BUILD/image_json_bench" --benchmark_min_time=1 > "$OUT/image-json-bench.txt" 2>/dev/null
NODE_PARSE=$(node -e '
const fs = require("fs"); const s = fs.readFileSync(process.argv[1], "utf8");
for (let i = 0; i < 20; i++) JSON.parse(s);
const n = 200, t = process.hrtime.bigint();
for (let i = 0; i < n; i++) JSON.parse(s);
console.log((Number(process.hrtime.bigint() - t) / 1e3 / n).toFixed(0));' "$WORK/body-peer.json")
us() { awk -v b="$1" '$1 == b {print $2}' "$OUT/image-json-bench.txt"; }
ratio() { /usr/bin/python3 -c "print(f'{float(\"$1\")/float(\"$2\"):.2f}')"; }
{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "model: scripts/make_cnn_onnx.py --size 224; body: [224][224][3] random 8-bit pixels, $(stat -c %s "$WORK/body-cnn.json") bytes"
  echo
  echo "closed loop: wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency -s bench/p95.lua"
  echo
  echo "| server | req/s | p50 | p95 | p99 | non-2xx |"
  echo "|---|---|---|---|---|---|"
  echo "| closedloop /v1/inference (no batching) | $cl_rps | $cl_p50 | $cl_p95 | $cl_p99 | $cl_bad |"
  echo "| closedloop /v1/inference (max_batch_size 8, 2 ms) | $b8_rps | $b8_p50 | $b8_p95 | $b8_p99 | $b8_bad |"
  echo "| Node.js + onnxruntime-node | $pe_rps | $pe_p50 | $pe_p95 | $pe_p99 | $pe_bad |"
  echo
  echo "throughput ratio closedloop / onnxruntime-node: $(ratio "$cl_rps" "$pe_rps") (batched: $(ratio "$b8_rps" "$pe_rps"))"
  echo "batched run: batch_size sum/count = $BATCHES"
  echo
  echo "open loop: autocannon -c 64 -d $DURATION --overallRate $RATE (latencies in ms)"
  echo
  echo "| server | offered req/s | achieved req/s | p50 | p90 | p97.5 | p99 | failed |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "$OPEN"
  echo
  echo "JSON parsing of the body alone (µs per body): simdjson parse $(us BM_SimdjsonParseOnly), closedloop request parser $(us BM_ParsePredictRequest), parser + preprocessing $(us BM_ParseAndPreprocess); Node.js JSON.parse $NODE_PARSE"
} | tee "$OUT/image-bench.md"
