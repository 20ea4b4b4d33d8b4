#!/bin/bash
# Copies every run folder of /work/ref/runs (the clean Table 1 run and the queued runs) with
# its log into results/in-progress/<run>/ and commits only results/in-progress (a session's
# git-ignored runs/ do not survive a machine reset). `table1-clean-50` is left out: it is
# `table1-clean` frozen at 50 cases per cell, and its rows are those with `index` < 50; so are
# `tune-ftl` and `tune-ftl-clean`, finished and promoted to results/tune-ftl/, and
# `table1-tuned`, promoted to results/table1-tuned/ (2026-12-07).
# Usage: results/in-progress/snapshot.sh "commit message"
set -euo pipefail
src=/work/ref/runs
dst=/work/main/results/in-progress
for run in "$src"/*/; do
  name=$(basename "$run")
  # Frozen or promoted copies: not in progress.
  case "$name" in table1-clean-50|tune-ftl|tune-ftl-clean|table1-tuned) continue ;; esac
  mkdir -p "$dst/$name"
  rm -rf "$dst/$name/run" && cp -r "$src/$name" "$dst/$name/run"
  [ -f "$src/$name.log" ] && cp "$src/$name.log" "$dst/$name/"
done
[ -f /work/queue/queue.log ] && cp /work/queue/queue.log "$dst/"
cd /work/main
git add -f "$dst"
git commit -q -m "$1" -- "$dst" && git log --oneline -1
