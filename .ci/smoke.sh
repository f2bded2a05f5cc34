#!/usr/bin/env bash
# Smoke test of what a user installs: build the wheel, install it (no editable install, no extras) into a clean venv
# with the pinned torch, and check that
#   - the wheel carries the license, the notice and the real-pendulum data with its terms;
#   - the core alone (as `pip install noether-networks` gives it) runs discover (every stage), export and dsl, and
#     records its version; every `noether video` command names the extra in one line and exits 2.
# One venv serves both the wheel and the core-only checks: a wheel installed without extras is the core-only install.
# Usage: .ci/smoke.sh PYTHON TORCH_SPEC
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-python3}"
case "$PY" in */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;; esac  # absolute: we cd below
TORCH="${2:-torch==2.13.0}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
export NOETHER_PROGRESS=0 NOETHER_CACHE="$OUT/cache"
step() { echo "smoke: $1 ($(date +%T))"; }

step "building the wheel"
"$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$OUT/dist" . 2> "$OUT/wheel.err" || { cat "$OUT/wheel.err"; exit 1; }
WHEEL="$(ls "$OUT"/dist/noether_networks-*.whl)"
"$PY" - "$WHEEL" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
need = ["noether/py.typed", "noether/systems/data/real_pend_h_1.txt", "noether/systems/data/REAL_PENDULUM.md"]
licenses = [n for n in names if n.endswith(("/LICENSE", "/NOTICE.md")) and ".dist-info/" in n]
missing = [n for n in need if n not in names] + ([] if len(licenses) == 2 else ["LICENSE and NOTICE.md in .dist-info"])
sys.exit(f"wheel lacks {missing}" if missing else 0)
PY
VERSION="$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"

step "installing it into a clean venv"
"$PY" -m venv "$OUT/venv"
# --no-compile: byte-compiling all of torch costs half the install; Python compiles what it imports on first use
"$OUT/venv/bin/pip" install -q --no-compile "$TORCH" 2> /dev/null
"$OUT/venv/bin/pip" install -q --no-compile "$WHEEL" 2> "$OUT/install.err" || { cat "$OUT/install.err"; exit 1; }

step "running it"
cd "$OUT"  # away from the source tree: the installed package, not ./noether, must be imported
NOETHER="$OUT/venv/bin/noether"
"$OUT/venv/bin/python" - <<'PY'
import importlib.util, sys
import noether
assert "site-packages" in noether.__file__, noether.__file__
extras = [m for m in ("gymnasium", "pymunk", "skimage", "torchmetrics") if importlib.util.find_spec(m)]
sys.exit(f"a wheel installed without extras brought video extras: {extras}" if extras else 0)
PY
"$NOETHER" --version | grep -q "$VERSION" || { echo "noether --version is not $VERSION"; exit 1; }
"$NOETHER" --help > /dev/null
"$NOETHER" systems > /dev/null
"$NOETHER" dsl count --system spring --depth 5 > /dev/null
# every stage, small: the point is that the installed package runs them, not what they find
"$NOETHER" discover --system spring --depth 5 --top-k 2 --epochs 5 --eval-seeds 0 --out "$OUT/spring" \
  > "$OUT/discover.log"
grep -q "long-term test RMSE" "$OUT/discover.log" || { cat "$OUT/discover.log"; exit 1; }
grep -q "^noether vs mlp: " "$OUT/discover.log" || { echo "no verdict line against the MLP"; cat "$OUT/discover.log"; exit 1; }
grep -q '"noether": "'"$VERSION"'"' "$OUT/spring/laws.json" || { echo "laws.json does not record version $VERSION"; exit 1; }
"$NOETHER" export "$OUT/spring/laws.json" --format python | grep -q "def law(q, p)"
# the vendored real-pendulum data is read from the installed package
"$OUT/venv/bin/python" -c 'from noether.systems import load_system; load_system("real-pendulum")'
set +e
"$NOETHER" video make-data ramp 2> "$OUT/video.err"
code=$?
set -e
[ "$code" -eq 2 ] || { echo "noether video make-data: exit $code, expected 2"; exit 1; }
grep -q "pip install 'noether-networks\[video\]'" "$OUT/video.err" || { cat "$OUT/video.err"; exit 1; }
[ "$(wc -l < "$OUT/video.err")" -eq 1 ] || { echo "video error is not one line:"; cat "$OUT/video.err"; exit 1; }
echo "smoke test: ok ($(basename "$WHEEL"): license, notice and data inside; core-only discover spring, export, dsl," \
     "real-pendulum data; video names its extra)"
