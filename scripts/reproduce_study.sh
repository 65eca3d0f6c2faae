#!/usr/bin/env bash
# Reproduce msmult's study: every block of conf/experiment/ as one Hydra multirun, then the study
# tables and figures in outputs/study/tables/.
#
#   scripts/reproduce_study.sh                      # all blocks, one job at a time
#   BLOCKS="tabular" scripts/reproduce_study.sh     # some blocks only
#   scripts/reproduce_study.sh hydra/launcher=joblib hydra.launcher.n_jobs=4   # extra overrides
#   scripts/reproduce_study.sh device=auto          # image / text models on the GPU when present
#
# Expected run time with the basic launcher (one job at a time) on 2 CPU cores, CPU torch,
# estimated from single default runs (report.json timing.total_s; the victim is trained once per
# dataset and seed, then read from the victim cache):
#   tabular  72 runs  ~6 min   adult ~9-10 s a run, compas ~5 s, german ~2.5 s (its 24 runs: 27 s)
#   medical  24 runs  ~35 min  ~90 s a run, 78 s of it exploring 201 CNN candidates
#   nlp      24 runs  ~25 min  ~107 s at budget 4000 (victim 29 s, surrogate 54 s), less at 1000
# Every block writes to a fixed folder, outputs/study/<block>/<overrides>/, so rerunning this
# script after an interruption skips the runs that finished (valid completion marker) and redoes
# the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

for block in ${BLOCKS:-tabular medical nlp}; do
  echo "== study block ${block}"
  msmult run -m "experiment=${block}" "$@"
done
msmult tables outputs/study --out outputs/study/tables --by-epsilon
