#!/usr/bin/env python3
"""Feedback ingest load for `make bench`: POST /v1/feedback:batch (1,000 items per
request) from several keep-alive connections for a fixed time; prints acknowledged
events and events/s as JSON. Every acknowledged item was committed before its
answer (the server answers after the group commit).
  feedback_load.py URL REQUEST_IDS_FILE SECONDS CONNECTIONS [OUT_ACKED_FILE]"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

url, ids_file, seconds, conns = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
acked_file = sys.argv[5] if len(sys.argv) > 5 else None
ids = open(ids_file).read().split()
parsed = urllib.parse.urlparse(url)
lock = threading.Lock()
acked = 0
errors = 0
stop_at = time.monotonic() + seconds


def worker(n):
    global acked, errors
    rng = random.Random(n)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    while time.monotonic() < stop_at:
        items = [{"request_id": rng.choice(ids), "rating": rng.randint(1, 5),
                  "click": rng.random() < 0.3, "dwell_ms": rng.randint(0, 60000)}
                 for _ in range(1000)]
        body = json.dumps({"feedback": items})
        try:
            conn.request("POST", "/v1/feedback:batch", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                with lock:
                    errors += 1
                continue
            stored = json.loads(data)["stored"]
            with lock:
                acked += stored
                if acked_file:
                    with open(acked_file, "w") as f:
                        f.write(str(acked))
        except Exception:  # the server was killed: stop
            with lock:
                errors += 1
            return


start = time.monotonic()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - start
print(json.dumps({"acked": acked, "seconds": round(elapsed, 2),
                  "events_per_second": round(acked / elapsed), "failed_requests": errors}))
