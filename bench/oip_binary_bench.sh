#!/usr/bin/env bash
# OIP inference with the binary tensor data extension vs plain JSON tensors, one run:
#   - the image case: one FP32 [1,150528] input (224x224x3) into an ONNX MLP
#     (150528 -> 16 -> 64 -> 10), output Y; closedloop binary, closedloop JSON, and
#     Node.js fastify + onnxruntime-node with JSON (it has no binary extension);
#   - 64 short Banking77 texts (BYTES [64]) into the demo fastText model, outputs
#     label and probabilities [64,77], binary both ways vs JSON both ways.
# Same wrk settings for every row. Prints a markdown table and the ratios.
#   bench/oip_binary_bench.sh BUILD_DIR     (env: DURATION=10 CONNECTIONS=16 THREADS=2)
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
OUT=$HERE/results
mkdir -p "$OUT"
source "$HERE/lib.sh"

if [[ ! -d "$HERE/node_modules/onnxruntime-node" ]]; then
  (cd "$HERE" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null)
fi

# The image model and the demo text model (trained on first use into $OUT/data, as bench/run.sh does).
DATA=$OUT/data
"$BUILD/make_onnx_mlp" "$WORK/image.onnx" 150528 16
mkdir -p "$DATA/models/image-mlp/1"
cp "$WORK/image.onnx" "$DATA/models/image-mlp/1/model.onnx"
printf 'flavor = "onnx"\n' > "$DATA/models/image-mlp/1/config.toml"
printf '[server]\nbody_limit_bytes = 16777216\n' > "$WORK/server.toml"

"$BUILD/closedloop" up --insecure --config "$WORK/server.toml" --data-dir "$DATA" \
  --listen 127.0.0.1:0 --log-level warn --examples-dir "$ROOT/examples/support" \
  > "$WORK/cl.out" 2> "$WORK/cl.err" &
pids+=($!)
for _ in $(seq 1 1200); do grep -q "closedloop ready" "$WORK/cl.out" 2>/dev/null && break; sleep 0.1; done
CL_PORT=$(grep -o 'ready: http://[^ ]*' "$WORK/cl.out" | sed 's/.*://')
[[ -n "$CL_PORT" ]] || { cat "$WORK/cl.err"; exit 1; }

PEER_PORT=$(free_port)
MODEL="$WORK/image.onnx" PORT=$PEER_PORT BODY_LIMIT=16777216 node "$HERE/peers/onnx_peer.js" \
  > "$WORK/peer.log" 2>&1 &
pids+=($!)

# Request bodies, written byte by byte: JSON, and binary (JSON header + raw little-endian data).
python3 - "$WORK" "$ROOT/examples/support/data/test.csv" <<'PY'
import csv, json, math, struct, sys
work, test_csv = sys.argv[1], sys.argv[2]
def write(name, body, header_length=None):
    open(f"{work}/{name}.body", "wb").write(body)
    open(f"{work}/{name}.hlen", "w").write("" if header_length is None else str(header_length))
n = 150528
pixels = [round(0.5 + 0.5 * math.sin(i * 0.001), 4) for i in range(n)]
write("image-json", json.dumps({"inputs": [{"name": "X", "shape": [1, n], "datatype": "FP32",
      "data": pixels}]}, separators=(",", ":")).encode())
header = json.dumps({"inputs": [{"name": "X", "shape": [1, n], "datatype": "FP32",
         "parameters": {"binary_data_size": 4 * n}}],
         "outputs": [{"name": "Y", "parameters": {"binary_data": True}}]},
         separators=(",", ":")).encode()
write("image-binary", header + struct.pack(f"<{n}f", *pixels), len(header))
texts = [row["text"] for row in csv.DictReader(open(test_csv, newline=""))][:64]
assert len(texts) == 64
write("text-json", json.dumps({"inputs": [{"name": "text", "shape": [64], "datatype": "BYTES",
      "data": texts}], "outputs": [{"name": "label"}, {"name": "probabilities"}]},
      separators=(",", ":")).encode())
raw = b"".join(struct.pack("<I", len(t.encode())) + t.encode() for t in texts)
header = json.dumps({"inputs": [{"name": "text", "shape": [64], "datatype": "BYTES",
         "parameters": {"binary_data_size": len(raw)}}],
         "outputs": [{"name": "label", "parameters": {"binary_data": True}},
                     {"name": "probabilities", "parameters": {"binary_data": True}}]},
         separators=(",", ":")).encode()
write("text-binary", header + raw, len(header))
PY

post() {  # port model body-name -> response file $WORK/<body-name>.<port>.out; fails on non-2xx
  local hlen; hlen=$(cat "$WORK/$3.hlen")
  local hdr=(-H 'Content-Type: application/json')
  [[ -n "$hlen" ]] && hdr=(-H 'Content-Type: application/octet-stream' -H "Inference-Header-Content-Length: $hlen")
  curl -fsS -D "$WORK/$3.$1.headers" -o "$WORK/$3.$1.out" -X POST "${hdr[@]}" \
    --data-binary "@$WORK/$3.body" "http://127.0.0.1:$1/v2/models/$2/infer"
}
for _ in $(seq 1 300); do post "$PEER_PORT" image-mlp image-json 2>/dev/null && break; sleep 0.1; done

# Same input, same answer: binary and JSON agree with each other and with ONNX Runtime.
post "$CL_PORT" image-mlp image-json
post "$CL_PORT" image-mlp image-binary
post "$CL_PORT" support-intent text-json
post "$CL_PORT" support-intent text-binary
python3 - "$WORK" "$CL_PORT" "$PEER_PORT" <<'PY'
import json, struct, sys
work, cl, peer = sys.argv[1:]
def split(name):
    body = open(f"{work}/{name}.{cl}.out", "rb").read()
    hl = [l.split(":", 1)[1].strip() for l in open(f"{work}/{name}.{cl}.headers")
          if l.lower().startswith("inference-header-content-length:")]
    assert hl, f"{name}: no Inference-Header-Content-Length on the answer"
    return json.loads(body[:int(hl[0])]), body[int(hl[0]):]
js = json.load(open(f"{work}/image-json.{cl}.out"))["outputs"][0]["data"]
pe = json.load(open(f"{work}/image-json.{peer}.out"))["outputs"][0]["data"]
h, raw = split("image-binary")
bi = list(struct.unpack(f"<{len(raw) // 4}f", raw))
assert len(js) == len(bi) == len(pe) == 10, (len(js), len(bi), len(pe))
d1 = max(abs(a - b) for a, b in zip(js, bi)); d2 = max(abs(a - b) for a, b in zip(js, pe))
assert d1 < 1e-6 and d2 < 1e-3, (d1, d2)
tj = {o["name"]: o for o in json.load(open(f"{work}/text-json.{cl}.out"))["outputs"]}
h, raw = split("text-binary")
at, labels, probs = 0, [], []
for o in h["outputs"]:
    seg = raw[at:at + o["parameters"]["binary_data_size"]]; at += len(seg)
    if o["name"] == "label":
        p = 0
        while p < len(seg):
            (n,) = struct.unpack_from("<I", seg, p); labels.append(seg[p + 4:p + 4 + n].decode()); p += 4 + n
    else:
        probs = list(struct.unpack(f"<{len(seg) // 4}f", seg))
assert labels == tj["label"]["data"] and len(labels) == 64, labels[:3]
assert max(abs(a - b) for a, b in zip(probs, tj["probabilities"]["data"])) < 1e-6
print(f"answers agree: image binary vs JSON {d1:.1e}, closedloop vs onnxruntime {d2:.1e}; "
      f"64 texts: same labels, probabilities [64,{len(probs) // 64}]", file=sys.stderr)
PY

run_wrk() {  # name port model body-name -> "rps p50 p99 non2xx"
  export BODY_FILE="$WORK/$4.body" HEADER_LENGTH; HEADER_LENGTH=$(cat "$WORK/$4.hlen")
  local url="http://127.0.0.1:$2/v2/models/$3/infer"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$HERE/body_file.lua" "$url" > /dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$HERE/body_file.lua" "$url" \
    > "$OUT/wrk-oip-$1.txt"
  wrk_summary "$OUT/wrk-oip-$1.txt"
}
read -r ib_rps ib_p50 ib_p99 ib_bad <<< "$(run_wrk image-binary "$CL_PORT" image-mlp image-binary)"
read -r ij_rps ij_p50 ij_p99 ij_bad <<< "$(run_wrk image-json "$CL_PORT" image-mlp image-json)"
read -r ip_rps ip_p50 ip_p99 ip_bad <<< "$(run_wrk image-peer "$PEER_PORT" image-mlp image-json)"
read -r tb_rps tb_p50 tb_p99 tb_bad <<< "$(run_wrk text-binary "$CL_PORT" support-intent text-binary)"
read -r tj_rps tj_p50 tj_p99 tj_bad <<< "$(run_wrk text-json "$CL_PORT" support-intent text-json)"
for v in "$ib_rps" "$ij_rps" "$ip_rps" "$tb_rps" "$tj_rps"; do [[ -n "$v" ]] || exit 1; done
size() { stat -c %s "$WORK/$1.body"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s bench/body_file.lua (bench/oip_binary_bench.sh)"
  echo
  echo "| case | target | body bytes | req/s | p50 | p99 | non-2xx |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  echo "| FP32 [1,150528] | closedloop, binary tensor data | $(size image-binary) | $ib_rps | $ib_p50 | $ib_p99 | $ib_bad |"
  echo "| FP32 [1,150528] | closedloop, JSON | $(size image-json) | $ij_rps | $ij_p50 | $ij_p99 | $ij_bad |"
  echo "| FP32 [1,150528] | Node.js fastify + onnxruntime-node, JSON | $(size image-json) | $ip_rps | $ip_p50 | $ip_p99 | $ip_bad |"
  echo "| 64 texts, label + probabilities | closedloop, binary both ways | $(size text-binary) | $tb_rps | $tb_p50 | $tb_p99 | $tb_bad |"
  echo "| 64 texts, label + probabilities | closedloop, JSON both ways | $(size text-json) | $tj_rps | $tj_p50 | $tj_p99 | $tj_bad |"
  echo
  echo "- image: binary / JSON throughput **$(ratio "$ib_rps" "$ij_rps")x**; closedloop binary / onnxruntime-node JSON **$(ratio "$ib_rps" "$ip_rps")x**"
  echo "- 64 texts: binary / JSON throughput **$(ratio "$tb_rps" "$tj_rps")x**"
} | tee "$OUT/oip-binary-latest.md"
