#!/usr/bin/env bash
# Smoke test of what a user installs: build the wheel, install it (no editable install, no extras) into a clean venv
# with the pinned torch, and check that
#   - the wheel carries the license, the notice and the real-pendulum data with its terms;
#   - the core alone (as `pip install noether-networks` gives it) imports every module, runs discover through
#     meta-tailoring, export and dsl, and records its version; `noether video` names the extra in one line, exit 2.
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
# a short discover through meta-tailoring (the evaluation's long solves and HNN training are the suite's to test;
# that every module of the core imports with the core's dependencies alone is checked below)
"$NOETHER" discover --system spring --depth 5 --top-k 2 --epochs 5 --stage meta-tailor --out "$OUT/spring" \
  > "$OUT/discover.log"
grep -q "top laws (SymPy)" "$OUT/discover.log" || { cat "$OUT/discover.log"; exit 1; }
grep -q '"noether": "'"$VERSION"'"' "$OUT/spring/laws.json" || { echo "laws.json does not record version $VERSION"; exit 1; }
# the other commands in one interpreter (each CLI start would import torch again): export, dsl count, the vendored
# real-pendulum data read from the installed package, and `noether video` naming its extra in one line, exit 2
"$OUT/venv/bin/python" - "$OUT" <<'PY'
import sys
from click.testing import CliRunner
from noether.cli import cli
from noether.systems import load_system

out = sys.argv[1]
# every module of the core imports from the installed wheel with the core's dependencies (video needs its extra)
import importlib, pkgutil
import noether
skip = ("noether.video", "noether.__main__")  # video needs its extra; __main__ runs the command line
core = [m.name for m in pkgutil.walk_packages(noether.__path__, "noether.") if not m.name.startswith(skip)]
for name in core:
    importlib.import_module(name)
assert len(core) > 50, core
run = CliRunner().invoke
export = run(cli, ["export", f"{out}/spring/laws.json", "--format", "python"])
assert export.exit_code == 0 and "def law(q, p)" in export.output, export.output
count = run(cli, ["dsl", "count", "--system", "spring", "--depth", "5"])
assert count.exit_code == 0, count.output
load_system("real-pendulum")
video = run(cli, ["video", "make-data", "ramp"])
lines = video.output.strip().splitlines()
assert video.exit_code == 2, (video.exit_code, video.output)
assert len(lines) == 1 and "pip install 'noether-networks[video]'" in lines[0], video.output
PY
echo "smoke test: ok ($(basename "$WHEEL"): license, notice and data inside; core-only discover spring, export, dsl," \
     "real-pendulum data; video names its extra)"
