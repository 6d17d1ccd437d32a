#!/usr/bin/env bash
# make bench, web console: `closedloop up` with the demo (its models, registry and
# runs), 300 support inquiries with feedback and comments, any retraining they
# trigger left to finish, then headless Chromium
# (tests/js/console_pages.js) loads every console page ROUNDS times; per page the
# median time from navigation start to the data drawn (body[data-ready]).
#   bench/console_bench.sh BUILD_DIR [ROUNDS]
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
ROUNDS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
source "$HERE/lib.sh"
DATA=$WORK/data
"$BUILD/closedloop" up --data-dir "$DATA" --listen 127.0.0.1:0 --log-level warn \
  > "$WORK/cl.out" 2> "$WORK/cl.err" &
pids+=($!)
for _ in $(seq 1 3000); do grep -q "closedloop ready" "$WORK/cl.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'ready: http://[^ ]*' "$WORK/cl.out" | sed 's/ready: //')
KEY=$(cat "$DATA/admin.key")
python3 - "$URL" "$KEY" "$ROOT/examples/support/data/test.csv" <<'PY'
import csv, json, sys, urllib.request
url, key, path = sys.argv[1:4]
def post(p, body):
    req = urllib.request.Request(url + p, json.dumps(body).encode(),
                                 {"Content-Type": "application/json", "X-Api-Key": key})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
comments = ["fast and helpful thanks", "wrong answer about my refund", "the card answer was useful",
            "useless reply, still waiting", "great support", "nobody answered my question"]
rows = list(csv.reader(open(path, newline="")))[1:]
for i, row in enumerate(rows[::10][:300]):  # every 10th: all intents, not sorted by label
    a = post("/v1/support/inquiries", {"text": row[0], "customer_id": "bench-%d" % i})
    post("/v1/feedback", {"request_id": a["request_id"], "rating": 1 + i % 5, "nps": i % 11,
                          "click": i % 2 == 0, "comment": comments[i % len(comments)]})
PY
# Measure pages, not contention: wait until a retraining the traffic may have
# triggered (drift, labels) has finished.
for _ in $(seq 1 600); do
  curl -fsS -H "X-Api-Key: $KEY" "$URL/v1/retrains" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["running"] is None and not d["queued"] else 1)' &&
    break
  sleep 0.5
done
mkdir -p "$WORK/shots"
node "$ROOT/tests/js/console_pages.js" "$URL" "$KEY" "$WORK/shots" pages "$ROUNDS" > "$WORK/pages.txt"
echo "## Web console page loads ($ROUNDS loads each, demo data + 300 inquiries with feedback)"
python3 - "$WORK/pages.txt" <<'PY'
import statistics, sys
loads = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 4 and parts[0] == "page" and parts[2] == "load_ms":
        loads.setdefault(parts[1], []).append(float(parts[3]))
for name, ms in loads.items():
    print("- %-9s median %4.0f ms, max %4.0f ms" % (name, statistics.median(ms), max(ms)))
PY
grep -E '^(outside_requests|csp_violations|page_errors)' "$WORK/pages.txt" | sed 's/^/- /'
