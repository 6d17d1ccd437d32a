# Shared by the bench scripts (sourced): a scratch dir, background processes that
# are stopped on exit, and a free loopback port.
WORK=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# "req/s p50 p99 non-2xx" of a `wrk --latency` output file; fails when wrk gave no result.
wrk_summary() {
  awk '/Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} /Non-2xx/ {bad=$4}
       END {if (rps == "") exit 1; print rps, p50, p99, (bad == "" ? 0 : bad)}' "$1" ||
    { echo "bench: wrk gave no result in $1" >&2; return 1; }
}
