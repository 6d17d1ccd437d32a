#!/usr/bin/env bash
# Built-in text trainers on Banking77 (train.csv -> test.csv, 77 intents), in one
# run on this machine: fastText with closedloop's defaults beside the MLP head
# (one member, and an ensemble of 4). Prints test accuracy, ECE and training
# seconds of each and the MLP's accuracy gain over fastText; then the ONNX export of
# the ensemble, continual learning of 5 new intents, and out-of-scope scores. The validation split
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

# ONNX export of the ensemble (float and INT8), checked against the native model
# on every test text.
export_onnx() {  # name, source model, then flags
  local name=$1 src=$2
  shift 2
  /usr/bin/time -f "%e" -o "$WORK/$name.time" "$BIN" export onnx "$WORK/$src/1" \
    --output "$WORK/$name" --verify "$DATA/test.csv" --label-col category "$@" >"$WORK/$name.out"
  printf '%-22s bytes %d MiB  max_abs_diff %s  top_label_agreement %s  onnx_accuracy %s  native_accuracy %s  %ss\n' \
    "$name" $(($(field bytes "$WORK/$name.out") / 1048576)) "$(field max_abs_diff "$WORK/$name.out")" \
    "$(field top_label_agreement "$WORK/$name.out")" "$(field onnx_accuracy "$WORK/$name.out")" \
    "$(field native_accuracy "$WORK/$name.out")" "$(cat "$WORK/$name.time")"
}
export_onnx onnx-ensemble4 mlp-ensemble4
export_onnx onnx-ensemble4-int8 mlp-ensemble4 --int8

# Continual learning: a model of 72 intents learns 5 new ones (Apple Pay, age
# limit, countries, card networks, ATMs). Fine-tuning alone, with rehearsal + EWC,
# and the peer: training from scratch on all the data. Old = the 72 intents' test
# rows, new = the 5 new intents' test rows.
python3 - "$DATA" "$WORK" <<'PY'
import csv, sys
data, work = sys.argv[1], sys.argv[2]
new = {"apple_pay_or_google_pay", "age_limit", "country_support", "visa_or_mastercard", "atm_support"}
for name in ("train", "test"):
    rows = list(csv.reader(open(f"{data}/{name}.csv", newline="")))
    with open(f"{work}/old_{name}.csv", "w", newline="") as o, open(f"{work}/new_{name}.csv", "w", newline="") as n:
        wo, wn = csv.writer(o), csv.writer(n)
        wo.writerow(rows[0]); wn.writerow(rows[0])
        for r in rows[1:]:
            (wn if r[-1] in new else wo).writerow(r)
PY
acc() { "$BIN" eval --model "$1" --input "$2" --label-col category | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["accuracy"])'; }
cl() {  # name, then train flags
  local name=$1
  shift
  /usr/bin/time -f "%e" -o "$WORK/$name.time" "$BIN" train text --model mlp --label-col category \
    --output "$WORK/$name/1" --no-tracking --progress never "$@" >"$WORK/$name.out"
  printf '%-22s old_intents %s  new_intents %s  %ss\n' "$name" \
    "$(acc "$WORK/$name/1" "$WORK/old_test.csv")" "$(acc "$WORK/$name/1" "$WORK/new_test.csv")" \
    "$(cat "$WORK/$name.time")"
}
cl base-72-intents --input "$WORK/old_train.csv"
cl fine-tune-naive --fine-tune-from "$WORK/base-72-intents/1" --input "$WORK/new_train.csv" \
  --ewc 0 --replay-size 0
cl fine-tune-guarded --fine-tune-from "$WORK/base-72-intents/1" --input "$WORK/new_train.csv" \
  --replay "$WORK/old_train.csv"
cl scratch-77-intents --input "$DATA/train.csv"

# Out-of-scope scores of the 72-intent model, its 5 unseen intents as out of
# scope: AUROC of each score, and the operating point of the threshold fitted at
# training (max_probability keeping 95% of in-scope validation inquiries).
for score in max_probability max_logit energy; do
  "$BIN" eval --oos --score "$score" --model "$WORK/base-72-intents/1" --input "$DATA/test.csv" \
    --label-col category | python3 -c 'import json,sys; j=json.load(sys.stdin); print("oos %-16s auroc %.4f" % (j["score"], j["auroc"]) + ("  fitted threshold %.3f: oos_recall %.3f  oos_precision %.3f  in_scope_coverage %.3f  in_scope_accuracy %.3f" % (j["threshold"], j["oos_recall"], j["oos_precision"], j["in_scope_coverage"], j["in_scope_accuracy"]) if j["score"] == "max_probability" else ""))'
done
