#!/bin/bash
# Copies the clean Table 1 run folder and its log into results/in-progress/table1-clean and
# commits only that folder (a session's git-ignored runs/ do not survive it).
# Usage: results/in-progress/snapshot.sh "commit message"
set -euo pipefail
dst=/work/main/results/in-progress/table1-clean
rm -rf "$dst/run" && cp -r /work/ref/runs/table1-clean "$dst/run"
cp /work/ref/runs/table1-clean.log "$dst/"
cd /work/main
git add -f "$dst"
git commit -q -m "$1" -- "$dst" && git log --oneline -1
