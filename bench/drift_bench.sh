#!/usr/bin/env bash
# make bench, drift statistics against scipy on the same data in the same run:
#   KS two-sample on 1,000,000 vs 1,000,000 values (target <= 1 s), against
#   scipy.stats.ks_2samp (same bytes, same method: asymptotic above 10,000);
#   MMD permutation test, 1,000 x 1,000 vectors of dim 100, 100 permutations
#   (target <= 3 s; scipy has no MMD, so the peer is the same test in numpy).
#   bench/drift_bench.sh BUILD_DIR
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
PY=/usr/bin/python3  # Debian's, with python3-scipy

$PY - "$WORK" <<'PYEOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
rng.normal(0, 1, 1_000_000).tofile(f"{d}/ks_a.bin")
rng.normal(0.002, 1, 1_000_000).tofile(f"{d}/ks_b.bin")
rng.normal(0, 1, (1000, 100)).tofile(f"{d}/mmd_x.bin")
rng.normal(0.05, 1, (1000, 100)).tofile(f"{d}/mmd_y.bin")
PYEOF

best_of_3() {  # prints the fastest of three runs' lines (by seconds=)
  for _ in 1 2 3; do "$@"; done | sort -t= -k2 -g | head -1
}
ours_ks=$(best_of_3 "$BUILD/drift_bench" ks "$WORK/ks_a.bin" "$WORK/ks_b.bin")
peer_ks=$(best_of_3 $PY - "$WORK" <<'PYEOF'
import sys, time
import numpy as np
from scipy import stats
d = sys.argv[1]
a, b = np.fromfile(f"{d}/ks_a.bin"), np.fromfile(f"{d}/ks_b.bin")
t = time.perf_counter()
r = stats.ks_2samp(a, b)
s = time.perf_counter() - t
print(f"seconds={s:.4f} statistic={r.statistic:.6g} p_value={r.pvalue:.6g}")
PYEOF
)
echo "KS 1M vs 1M   closedloop: $ours_ks"
echo "KS 1M vs 1M   scipy 1.10: $peer_ks"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
sec() { sed 's/.*seconds=\([0-9.]*\).*/\1/' <<< "$1"; }
echo "KS speed-up over scipy: $(ratio "$(sec "$peer_ks")" "$(sec "$ours_ks")")x"

ours_mmd=$(best_of_3 "$BUILD/drift_bench" mmd "$WORK/mmd_x.bin" "$WORK/mmd_y.bin" 100 100)
peer_mmd=$(best_of_3 $PY - "$WORK" <<'PYEOF'
import sys, time
import numpy as np
d = sys.argv[1]
x = np.fromfile(f"{d}/mmd_x.bin").reshape(-1, 100)
y = np.fromfile(f"{d}/mmd_y.bin").reshape(-1, 100)
t = time.perf_counter()
z = np.vstack([x, y]); n = len(x); N = len(z)
sq = (z * z).sum(1)
d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * z @ z.T, 0)
iu = np.triu_indices(N, 1)
sigma = np.median(np.sqrt(d2[iu]))
k = np.exp(-d2 / (2 * sigma * sigma))
def stat(lab):
    a, b = lab, ~lab
    return k[np.ix_(a, a)].mean() + k[np.ix_(b, b)].mean() - 2 * k[np.ix_(a, b)].mean()
lab = np.zeros(N, bool); lab[:n] = True
obs = stat(lab)
rng = np.random.default_rng(1)
ge = sum(stat(rng.permutation(lab)) >= obs for _ in range(100))
s = time.perf_counter() - t
print(f"seconds={s:.4f} statistic={obs:.6g} p_value={(1 + ge) / 101:.6g}")
PYEOF
)
echo "MMD 1000x1000 dim 100, 100 permutations   closedloop: $ours_mmd"
echo "MMD 1000x1000 dim 100, 100 permutations   numpy:      $peer_mmd"
echo "MMD speed-up over numpy: $(ratio "$(sec "$peer_mmd")" "$(sec "$ours_mmd")")x"
