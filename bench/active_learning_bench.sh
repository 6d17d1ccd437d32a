#!/usr/bin/env bash
# make bench, active learning and label aggregation simulated on Banking77
# (bench/active_learning_bench.cc): accuracy vs labels used for random (the peer),
# least confidence, margin, entropy, QBC and margin + diversity + random share,
# from 10 labels per intent to 30% of the pool, against the model trained on every
# row; then three noisy annotators (0.9 / 0.8 / 0.6), majority vote vs Dawid-Skene.
#   bench/active_learning_bench.sh BUILD_DIR [--seeds N] [--step N] [--max-share F]
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
shift || true
HERE=$(cd "$(dirname "$0")" && pwd)
echo "== active learning: $(nproc) cores, $(date -u +%FT%TZ)"
"$BUILD/active_learning_bench" "$HERE/../examples/support/data" "$@"
