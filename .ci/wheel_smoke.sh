#!/usr/bin/env bash
# Wheel smoke test: build the wheel, install it (no editable install) into a clean venv with the pinned torch, check
# that it carries the license, the notice and the real-pendulum data with its terms, and run one short discover.
# Usage: .ci/wheel_smoke.sh PYTHON TORCH_SPEC
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-python3}"
case "$PY" in */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;; esac  # absolute: we cd below
TORCH="${2:-torch==2.13.0}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
export NOETHER_PROGRESS=0 NOETHER_CACHE="$OUT/cache"

echo "wheel smoke: building the wheel ($(date +%T))"
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
"$PY" -m venv "$OUT/venv"
"$OUT/venv/bin/pip" install -q "$TORCH" 2> /dev/null
echo "wheel smoke: installing it into a clean venv ($(date +%T))"
"$OUT/venv/bin/pip" install -q "$WHEEL" 2> "$OUT/install.err" || { cat "$OUT/install.err"; exit 1; }
echo "wheel smoke: running it ($(date +%T))"
cd "$OUT"  # away from the source tree: the installed package, not ./noether, must be imported
VERSION="$("$PY" -c 'import tomllib; print(tomllib.load(open("'"$OLDPWD"'/pyproject.toml", "rb"))["project"]["version"])')"
"$OUT/venv/bin/noether" --version | grep -q "$VERSION" || { echo "noether --version is not $VERSION"; exit 1; }
"$OUT/venv/bin/python" -c 'import noether, pathlib; assert "site-packages" in noether.__file__, noether.__file__'
"$OUT/venv/bin/noether" discover --system real-pendulum --depth 5 --stage filter --out "$OUT/run" > "$OUT/discover.log"
grep -q "independent conserved laws" "$OUT/discover.log" || { cat "$OUT/discover.log"; exit 1; }
grep -q '"noether": "'"$VERSION"'"' "$OUT/run/laws.json" || { echo "laws.json does not record version $VERSION"; exit 1; }
echo "wheel smoke test: ok ($(basename "$WHEEL"): license, notice and data inside; discover real-pendulum ran)"
