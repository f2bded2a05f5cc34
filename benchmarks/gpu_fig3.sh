#!/usr/bin/env bash
# Fig. 3 (controlled pendulum) at the `paper` preset on one GPU: 3 fresh seeds, the five arms of the frozen protocol
# (svg, noether, svg-more, law-oracle, law-discovered), written as the confirmation's per-seed files under
# benchmarks/results/gpu_fig3/ (video_fig3/seed_<k>.json, video_fig3.json, video.md). Not run yet: no GPU was lent.
#
#   bash benchmarks/gpu_fig3.sh            # PYTHON=.venv/bin/python SEEDS=200-202 by default
#
# Sizing (benchmarks/video_protocol.md, "GPU"): the paper preset trains svg 1,350 steps at batch 32, then 540 steps
# per continuation and 6,000 readout steps per law arm. Measured on this CPU at `ci` size (the same operators as the
# paper's widths: their count does not depend on the widths): 5,989 aten operators per svg step, 2,963 per Noether
# tune step, 4,700 per law tune step, 570 per readout step (benchmarks/bench_video_phases.py --preset ci
# --count-ops). Assumed: at batch 32 and 64 px every kernel is small for an H200, so a step costs about 10 us per
# operator (launch-bound eager PyTorch): svg 81 s, svg-more 32 s, noether 16 s, each law arm 34 s of readout + 25 s
# of tuning -> per seed ~250 s of GPU time, ~120 s for svg and ~60 s for the slowest continuation when the 3 seeds'
# runs share the GPU (x1.5 assumed). Data: Pendulum-v1 rendering ~195 s a seed on one core, the 3 seeds at once on
# 3 cores, beside the discovery of the law (~130 s). Estimate: ~200 + 120 + 90 + 60 s = ~8 min after the machine
# starts. Every run resumes from its checkpoint, so a cut-off call loses nothing: run the script again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
SEEDS=${SEEDS:-200-202}
RUNS=runs/gpu_fig3
OUT=benchmarks/results/gpu_fig3
export NOETHER_PROGRESS=0
start=$(date +%s)
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
IFS=- read -r first last <<<"$SEEDS"
# 1. the law to plug in (the discover pipeline on the ideal pendulum) and each seed's data, at once on the CPU cores
[ -f runs/pendulum/laws.json ] || "$PY" -m noether discover --system pendulum --depth 7 --out runs/pendulum >/dev/null &
for s in $(seq "$first" "${last:-$first}"); do
  "$PY" -m noether video make-data pendulum-controlled --preset paper --seed "$s" >/dev/null &
done
wait
echo "data and law: $(( $(date +%s) - start )) s"
# 2. svg of every seed, then the four continuations of every seed (one process each) on the one GPU
"$PY" benchmarks/bench_video_fig3.py --seeds "$SEEDS" --preset paper --runs "$RUNS" --results "$OUT" \
  --device cuda --train-only --arms svg --jobs 3
echo "svg: $(( $(date +%s) - start )) s"
"$PY" benchmarks/bench_video_fig3.py --seeds "$SEEDS" --preset paper --runs "$RUNS" --results "$OUT" \
  --device cuda --train-only --arms noether,svg-more,law-oracle,law-discovered --jobs 12
echo "continuations: $(( $(date +%s) - start )) s"
# 3. each finished run evaluated once on the test split; seed files, video_fig3.json and the report section
"$PY" benchmarks/bench_video_fig3.py --seeds "$SEEDS" --preset paper --runs "$RUNS" --results "$OUT" \
  --device cuda --jobs 3
echo "total: $(( $(date +%s) - start )) s"
