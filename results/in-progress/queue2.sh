#!/bin/bash
# After queue.sh: quick-default runs of the experiments that have no reference under the
# issue-16 protocol yet, with /work/ref's 4209cb3 binary (experiment files frozen from 4c5b3c3).
cd /work/ref
K=target/release/kne
log() { echo "$(date -u +%FT%TZ) $*" >> /work/queue/queue.log; }
while pgrep -f "queue/queue.sh" > /dev/null; do sleep 60; done
for name in tune-gemma3-lr table2 fig2 figB3 figB4 figB5; do
  log "$name (quick) start"; s=$(date +%s)
  $K reproduce --experiment /work/queue/$name.toml --run runs/$name-quick --jobs 2 >> runs/$name-quick.log 2>&1
  log "$name (quick) rc=$? $(( $(date +%s)-s )) s"
done
