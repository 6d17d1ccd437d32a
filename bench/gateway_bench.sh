#!/usr/bin/env bash
# make bench: the gateway's cost. Same wrk load (bench/predict.lua) in one run on
#   1. the inference process directly;
#   2. the inference process with in-process auth (API key) and rate limiting on;
#   3. `closedloop serve --role gateway` (auth + rate limit + forward) in front of 1;
#   4. nginx as a reverse proxy (keep-alive upstream) in front of 1.
# Targets: 2/1 >= 0.90 (in-process auth + rate limit cost <= 10%); 3/4 > 1.
#   bench/gateway_bench.sh BUILD_DIR   (env: DURATION=10 CONNECTIONS=64 THREADS=2 WORKERS=2 ROUNDS=3)
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
BIN=$BUILD/closedloop
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}  # alternating rounds of 1 and 2, and of 3 and 4
OUT=$HERE/results
mkdir -p "$OUT"
source "$HERE/lib.sh"

start() {  # name args...: starts closedloop ARGS, prints its port
  local name=$1; shift
  "$BIN" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  pids+=($!)
  echo $! > "$WORK/$name.pid"
  for _ in $(seq 1 3000); do grep -q "closedloop ready" "$WORK/$name.out" 2>/dev/null && break; sleep 0.1; done
  local port
  port=$(grep -o 'ready: http://[^ ]*' "$WORK/$name.out" | sed 's/.*://')
  [[ -n "$port" ]] || { cat "$WORK/$name.err" >&2; exit 1; }
  echo "$port"
}
stop() { kill "$(cat "$WORK/$1.pid")"; wait "$(cat "$WORK/$1.pid")" 2>/dev/null || true; }

run_wrk() {  # name url [wrk args]
  local name=$1 url=$2; shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$HERE/predict.lua" "$@" "$url" > /dev/null  # warm-up
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$HERE/predict.lua" "$@" "$url" \
    > "$OUT/wrk-gateway-$name.txt"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-gateway-$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$OUT/wrk-gateway-$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/wrk-gateway-$name.txt")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$OUT/wrk-gateway-$name.txt" | tr '\n' ' ')
  echo "$rps $p50 $p99 ${errors:-none}"
}

# The demo model (trained on first use, shared with bench/run.sh) behind one inference process.
DATA=$OUT/data
KEY=$("$BIN" keys create --data-dir "$DATA" --name bench --scope predict | head -1)
cat > "$WORK/inference.toml" <<TOML
[monitor]
interval_ms = 0
TOML
cat > "$WORK/inference-auth.toml" <<TOML
[monitor]
interval_ms = 0
[auth]
enabled = true
[rate_limit]
per_ip_rate = 10000000
per_ip_burst = 10000000
TOML
cat > "$WORK/gateway.toml" <<TOML
[auth]
enabled = true
[rate_limit]
per_ip_rate = 10000000
per_ip_burst = 10000000
TOML

UP=(up --insecure --data-dir "$DATA" --listen 127.0.0.1:0 --log-level warn --workers "$WORKERS"
    --examples-dir "$ROOT/examples/support")
# 1 and 2, alternating ROUNDS times: the machine's drift shows as the spread,
# and hits both alike.
DIRECT=() AUTHED=()
for round in $(seq 1 "$ROUNDS"); do
  port=$(start direct "${UP[@]}" --config "$WORK/inference.toml")
  DIRECT+=("$(run_wrk "direct-$round" "http://127.0.0.1:$port")")
  stop direct
  port=$(start authed "${UP[@]}" --config "$WORK/inference-auth.toml")
  AUTHED+=("$(run_wrk "authed-$round" "http://127.0.0.1:$port" -H "X-Api-Key: $KEY")")
  stop authed
done

# 3 and 4 in front of the same inference process.
INF=$(start inference "${UP[@]}" --config "$WORK/inference.toml")
GW=$(start gateway serve --role gateway --listen 127.0.0.1:0 --log-level warn --workers "$WORKERS" \
  --data-dir "$DATA" --config "$WORK/gateway.toml" --upstream "http://127.0.0.1:$INF")
NGX_PORT=$(free_port)
mkdir -p "$WORK/nginx"
sed -e "s|@DIR@|$WORK/nginx|g" -e "s|@PORT@|$NGX_PORT|g" -e "s|@UPSTREAM@|$INF|g" \
  -e "s|@WORKERS@|$WORKERS|g" "$HERE/peers/nginx-proxy.conf.in" > "$WORK/nginx/nginx.conf"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2> "$WORK/nginx/start.log" &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
  -d '{"model":"support-intent","text":"card"}' "http://127.0.0.1:$NGX_PORT/v1/predict" && break; sleep 0.1; done
# Alternating, ROUNDS times each: the machine's drift hits both alike, and the
# mean of the rounds is reported beside the best one.
GATEWAY=() NGINX=()
for round in $(seq 1 "$ROUNDS"); do
  GATEWAY+=("$(run_wrk "gateway-$round" "http://127.0.0.1:$GW" -H "X-Api-Key: $KEY")")
  NGINX+=("$(run_wrk "nginx-$round" "http://127.0.0.1:$NGX_PORT")")
done
UP_ERRORS=$(curl -s "http://127.0.0.1:$GW/metrics" | awk '/^closedloop_upstream_requests_total\{.*code="error"/ {s+=$2} END {print s+0}')

best() { printf '%s\n' "$@" | awk '{print $1}' | sort -g | tail -1; }
mean() { printf '%s\n' "$@" | awk '{s+=$1; n++} END {printf "%.2f", s/n}'; }
row() {  # label results...
  local label=$1; shift
  local all
  all=$(printf '%s\n' "$@" | awk '{printf "%s%s", sep, $1; sep=" / "}')
  local b
  b=$(printf '%s\n' "$@" | sort -g -k1 | tail -1)
  read -r rps p50 p99 errs <<< "$b"
  echo "| $label | $all | $p50 | $p99 | $errs |"
}
ratio() { python3 -c "print(f'{float(\"$1\")/float(\"$2\"):.2f}')"; }
{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s -s bench/predict.lua, $ROUNDS alternating rounds of 1 and 2, then of 3 and 4; servers with $WORKERS io threads / nginx $WORKERS workers"
  echo
  echo "| target | req/s (each round) | p50 (best round) | p99 | errors |"
  echo "|---|---:|---:|---:|---|"
  row "inference process directly" "${DIRECT[@]}"
  row "same, in-process auth (API key) + rate limit" "${AUTHED[@]}"
  row "gateway role (auth + rate limit + forward) → inference" "${GATEWAY[@]}"
  row "nginx reverse proxy (keep-alive upstream) → inference" "${NGINX[@]}"
  echo
  echo "- in-process auth + rate limit / direct: mean of $ROUNDS rounds **$(ratio "$(mean "${AUTHED[@]}")" "$(mean "${DIRECT[@]}")")**, best rounds $(ratio "$(best "${AUTHED[@]}")" "$(best "${DIRECT[@]}")") (target >= 0.90)"
  echo "- gateway role / nginx reverse proxy: mean of $ROUNDS rounds **$(ratio "$(mean "${GATEWAY[@]}")" "$(mean "${NGINX[@]}")")**, best rounds $(ratio "$(best "${GATEWAY[@]}")" "$(best "${NGINX[@]}")") (target > 1)"
  echo "- failed upstream tries at the gateway during its runs: $UP_ERRORS"
} | tee "$OUT/gateway-latest.md"
