#!/usr/bin/env bash
# Core-only smoke test: a venv with `pip install -e .` and the pinned torch, no [video] extra.
# The core must run discover / export / dsl / systems; every `noether video` command must name the extra and exit 2.
set -euo pipefail
NOETHER="$1/bin/noether"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
export NOETHER_PROGRESS=0 NOETHER_CACHE="$OUT/cache"

"$1/bin/python" - <<'PY'
import importlib.util, sys
extras = [m for m in ("gymnasium", "pymunk", "skimage", "torchmetrics") if importlib.util.find_spec(m)]
sys.exit(f"core-only venv has video extras installed: {extras}" if extras else 0)
PY
"$NOETHER" --help > /dev/null
"$NOETHER" systems > /dev/null
"$NOETHER" dsl count --system spring --depth 5 > /dev/null
"$NOETHER" discover --system spring --eval-seeds 0 --out "$OUT/spring" > "$OUT/discover.log"
grep -q "long-term test RMSE" "$OUT/discover.log"
grep -q "^noether vs mlp: " "$OUT/discover.log" || { echo "no verdict line against the MLP"; cat "$OUT/discover.log"; exit 1; }
"$NOETHER" export "$OUT/spring/laws.json" --format python | grep -q "def law(q, p)"
set +e
"$NOETHER" video make-data ramp 2> "$OUT/video.err"
code=$?
set -e
[ "$code" -eq 2 ] || { echo "noether video make-data: exit $code, expected 2"; exit 1; }
grep -q "pip install 'noether-networks\[video\]'" "$OUT/video.err" || { cat "$OUT/video.err"; exit 1; }
[ "$(wc -l < "$OUT/video.err")" -eq 1 ] || { echo "video error is not one line:"; cat "$OUT/video.err"; exit 1; }
echo "core-only smoke test: ok (discover spring, export, dsl count; video says which extra to install)"
