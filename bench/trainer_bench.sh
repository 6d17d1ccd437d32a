#!/usr/bin/env bash
# Built-in text trainers on Banking77 (train.csv -> test.csv, 77 intents), in one
# run on this machine: fastText with closedloop's defaults beside the MLP head
# (one member, and an ensemble of 4). Prints test accuracy, ECE and training
# seconds of each and the MLP's accuracy gain over fastText. The validation split
# (10% of train.csv) chooses epochs and temperature; test.csv is only evaluated.
#   bench/trainer_bench.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
BIN=$(realpath "$BUILD/closedloop")
cd "$(dirname "$0")"
source lib.sh
DATA=../examples/support/data
field() { awk -v k="$1:" '$1 == k {print $2}' "$2"; }
run() {  # name, then train flags
  local name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$WORK/$name.time" \
    "$BIN" train text --input "$DATA/train.csv" --test "$DATA/test.csv" --label-col category \
    --output "$WORK/$name/1" --no-tracking --progress never "$@" >"$WORK/$name.out"
  read -r wall rss <"$WORK/$name.time"
  printf '%-22s test_accuracy %s  test_ece %s  train_seconds %.1f  wall %ss  peak_rss %d MiB  model %d MiB\n' \
    "$name" "$(field test_accuracy "$WORK/$name.out")" "$(field test_ece "$WORK/$name.out")" \
    "$(field train_seconds "$WORK/$name.out")" "$wall" $((rss / 1024)) \
    $(($(field model_bytes "$WORK/$name.out") / 1048576))
}
echo "trainer bench: $(nproc) cores, $(date -u +%FT%TZ)"
run fasttext-default
run mlp --model mlp
run mlp-ensemble4 --model mlp --ensemble 4
run mlp-ensemble4-int8 --model mlp --ensemble 4 --quantize
ft=$(field test_accuracy "$WORK/fasttext-default.out")
for m in mlp mlp-ensemble4 mlp-ensemble4-int8; do
  awk -v a="$(field test_accuracy "$WORK/$m.out")" -v b="$ft" -v n="$m" \
    'BEGIN {printf "%s vs fasttext-default: %+.2f points test accuracy\n", n, (a - b) * 100}'
done
