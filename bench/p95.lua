-- wrk script: bench/body_file.lua's POST of $BODY_FILE, plus a last line with the
-- 95th percentile latency (wrk --latency prints 50/75/90/99 only):
--   p95_ms <value>
dofile(os.getenv("BENCH_DIR") .. "/body_file.lua")
function done(summary, latency, requests)
  io.write(string.format("p95_ms %.2f\n", latency:percentile(95) / 1000))
end
