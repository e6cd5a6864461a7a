#!/usr/bin/env bash
# A deliberately WRONG worker, to show that bench/run catches one: it never calls
# Ollama, writes a made-up result and moves the request straight into done/.
# Run it only on purpose: bench/run --workers cheat (it is not in the default set).
#   cheat-worker.sh --spool DIR --ollama-url URL --concurrency N
SPOOL=./spool
while (($#)); do case $1 in --spool) SPOOL=$2; shift 2 ;; *) shift 2 ;; esac; done
for d in tmp incoming active done failed; do mkdir -p "$SPOOL/$d"; done
cd "$SPOOL" || exit 1
trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
inotifywait -m -q -e moved_to --format '%f' incoming | while read -r n; do
    id=${n%.json}
    printf 'made up\n' >"done/$id.txt"
    mv "incoming/$n" "done/$id.json"
    printf '{"id":"%s","status":"done","message":{"role":"assistant","content":"made up\\n"}}\n' "$id" >"done/$id.result.json"
done &
wait
