#!/usr/bin/env python3
"""Wall time of a `kne reproduce` run folder from its log and rows.

Localization: the log prints, per KNE cell, "localized k/N facts (...), S s" with S counted
from that cell's start in that process; a process (one "run folder:" segment of the log)
spends max(S) on each cell it worked on, so the localization time is the sum over segments
and cells of max(S) (facts recomputed after a restart are counted again: they were paid).
Cases: each row's `wall_s`; shards run side by side, so a cell's wall time is the largest
sum over its shard files. Usage: walltime.py RUN_DIR LOG
"""
import collections, json, pathlib, re, sys

run, log = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
seg, loc = 0, collections.defaultdict(float)
for line in log.read_text().splitlines():
    if line.startswith("run folder:"):
        seg += 1
    m = re.match(r"(\S+): localized \d+/\d+ facts .*, (\d+) s$", line)
    if m:
        key = (seg, m.group(1))
        loc[key] = max(loc[key], float(m.group(2)))
per_cell = collections.defaultdict(float)
for (_, cell), s in loc.items():
    per_cell[cell] += s
cases = {}
for cell_dir in sorted({p.parent for p in run.rglob("rows*.jsonl")}):
    shards = [[json.loads(l)["wall_s"] for l in f.read_text().splitlines() if l.strip()]
              for f in sorted(cell_dir.glob("rows*.jsonl"))]
    cases[f"{cell_dir.parent.name}/{cell_dir.name}"] = (
        sum(map(len, shards)), max(map(sum, shards)))
h = lambda s: f"{s / 3600:.2f} h"
print("| part | what | wall |\n|---|---|---|")
for cell, s in sorted(per_cell.items()):
    print(f"| localization | {cell} | {h(s)} |")
for cell, (n, s) in cases.items():
    print(f"| cases | {cell} ({n} rows) | {h(s)} |")
L, C = sum(per_cell.values()), sum(s for _, s in cases.values())
print(f"| **all** | localization {h(L)}, cases {h(C)} | **{h(L + C)}** |")
