#!/bin/bash
# Baseline for bench/batch: the shell loop Ollama's maintainers point people to when they ask for a
# batch API -- curl per line, run N at a time (here `xargs -P N`), jq to build the body and the
# output line.
#
#   batch-shell.sh IN.jsonl OUT.jsonl ERR.jsonl OLLAMA_URL N
#
# Per line: one jq reads the custom_id and builds Ollama's /api/chat body from the OpenAI body
# (model, messages, "stream": false); curl POSTs it; a second jq wraps the reply in OpenAI's batch
# output shape (the same as vibes-spool's and batch-python.py's), appended to OUT (O_APPEND, one
# line < 4 KiB per write); a failed curl appends an error line to ERR. One bash per line (xargs).
# Left out on purpose: retries, resuming, fsync.
set -u
IN=$1 OUT=$2 ERR=$3 OLLAMA_URL=$4 N=${5:-4}
export OUT ERR OLLAMA_URL
: >"$OUT"
: >"$ERR"

one() {
    local line=$1 id req resp
    { IFS= read -r id; IFS= read -r req; } < <(jq -r '.custom_id, (.body | {model, messages, stream: false} | tojson)' <<<"$line")
    if resp=$(curl -sS --fail-with-body -H 'Content-Type: application/json' --data-binary "$req" "$OLLAMA_URL/api/chat"); then
        jq -c --arg id "$id" '{id: ("batch_req_" + $id), custom_id: $id,
            response: {status_code: 200, request_id: ("req_" + $id),
              body: {id: ("chatcmpl-" + $id), object: "chat.completion", created: (now | floor), model,
                     choices: [{index: 0, message: {role: .message.role, content: .message.content},
                                finish_reason: (if .done_reason == "length" then "length" else "stop" end)}],
                     usage: {prompt_tokens: (.prompt_eval_count // 0), completion_tokens: (.eval_count // 0),
                             total_tokens: ((.prompt_eval_count // 0) + (.eval_count // 0))}}},
            error: null}' <<<"$resp" >>"$OUT"
    else
        jq -nc --arg id "$id" --arg msg "$resp" \
            '{id: ("batch_req_" + $id), custom_id: $id, response: null, error: {code: "request_failed", message: $msg}}' >>"$ERR"
    fi
}
export -f one

grep -v '^[[:space:]]*$' "$IN" | xargs -d '\n' -P "$N" -n 1 bash -c 'one "$1"' _
