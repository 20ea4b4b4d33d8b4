#!/bin/bash
# Runs queued after the clean Table 1 run, one after another, with /work/ref's 4209cb3 binary.
cd /work/ref
K=target/release/kne
log() { echo "$(date -u +%FT%TZ) $*" >> /work/queue/queue.log; }
while pgrep -f "kne reproduce --experiment experiments/table1.toml" > /dev/null; do sleep 60; done
n=$(for d in wiki_cf zsre wiki_recent; do for c in ft ft-l adalora rome memit kne kne-transductive; do
  cat runs/table1-clean/table1/$d/$c/rows*.jsonl 2>/dev/null | wc -l; done; done | awk '$1>=50' | wc -l)
log "table1-clean ended; cells with >= 50 rows: $n / 21"
[ "$n" = 21 ] || { log "table1-clean incomplete: queue stops"; exit 1; }
# The copy to promote: the run with the rows of cases 0..49 only (safe to redo after a reset,
# when the 100-case extension below may already have added rows).
if [ ! -d runs/table1-clean-50 ]; then
  cp -a runs/table1-clean runs/table1-clean-50.tmp
  python3 - runs/table1-clean-50.tmp <<'PY'
import json, pathlib, sys
for f in pathlib.Path(sys.argv[1]).rglob("rows*.jsonl"):
    keep = [l for l in f.read_text().splitlines() if l.strip() and json.loads(l)["index"] < 50]
    f.write_text("".join(l + "\n" for l in keep))
PY
  mv runs/table1-clean-50.tmp runs/table1-clean-50 && log "frozen copy runs/table1-clean-50 (cases 0..49)"
fi
# A queue restarted while one of its runs is still going waits for it, then resumes it below
# (finished facts and cases are skipped).
while pgrep -f "kne reproduce --experiment /work/queue/" > /dev/null; do sleep 60; done
# FT-L's ε for the `tuned` preset is decided on these 100 train_cf.json cases
# (experiments/tune-ftl.md) before table1-tuned runs with it; a different ε reruns only
# table1-tuned's ft-l cells.
mkdir -p runs/tune-ftl && [ -d runs/tune-ftl/tune-ftl ] || cp -a /work/main/results/tune-ftl runs/tune-ftl/tune-ftl
log "tune-ftl start"; s=$(date +%s)
$K reproduce --experiment /work/queue/tune-ftl.toml --full --run runs/tune-ftl --jobs 2 >> runs/tune-ftl.log 2>&1
log "tune-ftl rc=$? $(( $(date +%s)-s )) s"
log "table1-tuned start"; s=$(date +%s)
$K reproduce --experiment /work/queue/table1-tuned.toml --full --run runs/table1-tuned --jobs 2 >> runs/table1-tuned.log 2>&1
log "table1-tuned rc=$? $(( $(date +%s)-s )) s"
# The 100-case extension before table1-m20 (moved 2026-12-07 22:45): it is ≈ 3.5 h of cases
# against table1-m20's ≈ 8–12 h of localization on this AVX2-only EPYC, and it gives issue 17's
# wall time; table1-m20 resumes from its last checkpoint (every 10 facts) afterwards.
log "table1 100-case extension start"; s=$(date +%s)
$K reproduce --experiment /work/queue/table1-100.toml --full --run runs/table1-clean --jobs 2 >> runs/table1-clean.log 2>&1
log "table1 100 rc=$? $(( $(date +%s)-s )) s"
# table1-m20 last: it resumes from its last checkpoint (every 10 facts).
# Since 2026-12-08 with the 34a0722 binary (/work/ref2/bin/kne, built from a clean worktree
# of that commit): attribution reads q/k, v/o and up/down from one path each and the α = 1 row
# once per fact, ≈ 1.8× faster
# localization (experiments/attribution-cost.md §8). Its m = 20 localization starts again from
# fact 0 with that binary, so one build computes all 200 facts; the 20-fact checkpoint of the
# 4209cb3 binary is kept beside it (`.partial.json.4209cb3`) to compare the first 20 facts.
# The m = 4 cell reads table1's scores (copied below), so its ensemble is table1's.
K2=/work/ref2/bin/kne
mkdir -p runs/table1-m20/table1-m20/wiki_cf
cp runs/table1-clean/table1/wiki_cf/scores-27348290d8a76ba6.json runs/table1-m20/table1-m20/wiki_cf/
p=runs/table1-m20/table1-m20/wiki_cf/scores-8c7e64b571007310.partial.json
if [ -f $p ] && [ ! -f $p.4209cb3 ]; then mv $p $p.4209cb3 && log "kept the 4209cb3 m = 20 checkpoint as $p.4209cb3"; fi
log "table1-m20 start ($($K2 --version))"; s=$(date +%s)
$K2 reproduce --experiment /work/queue/table1-m20.toml --full --run runs/table1-m20 --jobs 2 >> runs/table1-m20.log 2>&1
log "table1-m20 rc=$? $(( $(date +%s)-s )) s"
