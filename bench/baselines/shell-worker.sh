#!/usr/bin/env bash
# Baseline spool worker in shell, for the benchmark only: inotifywait + curl + jq.
#
# What a competent engineer writes in an afternoon, following the spool's folder
# protocol (see /work/shared/design/CONTRACT.md, "Folders"):
#   - inotifywait -m watches incoming/ (a coprocess); once its watches are set, the
#     files already queued are taken oldest first (ls -tr), then each event in turn;
#   - the dispatcher (this shell) claims a job with `mv -n -T incoming/NAME.json
#     active/ID.json` (never replaces; the claim counts only if the source is gone),
#     and only while fewer than N jobs run;
#   - each job runs as a background subshell: jq builds Ollama's /api/chat body, curl
#     streams the reply (tee keeps the raw NDJSON), jq --unbuffered appends each
#     chunk's text to active/ID.partial;
#   - done: jq writes done/.ID.result.json.tmp, `sync FILE...` fsyncs it and the
#     partial, mv renames partial -> done/ID.txt, request -> done/ID.json and the
#     result into done/ID.result.json (last), then `sync done active` fsyncs the folders.
# Left out on purpose: retries, pausing while Ollama is down, deadlines, full request
# validation.
#
#   shell-worker.sh --spool DIR --ollama-url URL --concurrency N
set -uo pipefail
export TZ=UTC LC_ALL=C

SPOOL=${VIBES_SPOOL:-./spool}
URL=http://127.0.0.1:11434
CONC=1
while (($#)); do
    case $1 in
    --spool) SPOOL=$2; shift 2 ;;
    --ollama-url) URL=${2%/}; shift 2 ;;
    --concurrency) CONC=$2; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "usage: $0 --spool DIR --ollama-url URL --concurrency N" >&2; exit 2 ;;
    esac
done
[[ $CONC =~ ^[1-9][0-9]*$ ]] || { echo "--concurrency must be a positive number" >&2; exit 2; }
for d in tmp incoming active done failed; do mkdir -p "$SPOOL/$d" || exit 1; done
cd "$SPOOL" || exit 1
WORKER="$(hostname):$$"

log() { printf '%(%Y-%m-%dT%H:%M:%S)T %s\n' -1 "$*" >&2; }
# RFC 3339 UTC with milliseconds, without a fork
now() { local t=$EPOCHREALTIME f; f=${t#*.}; printf '%(%Y-%m-%dT%H:%M:%S)T.%sZ' "${t%.*}" "${f:0:3}"; }

error_env() { # id kind message partial_bytes detail -> failed/.ID.error.json.tmp (fsynced)
    local tmp="failed/.$1.error.json.tmp"
    jq -n --arg id "$1" --arg kind "$2" --arg msg "$3" --argjson bytes "${4:-0}" --arg detail "${5:-}" \
        --arg w "$WORKER" --slurpfile req <(jq -c . "active/$1.json" 2>/dev/null || echo null) '
        {id: $id, status: "failed", model: ($req[0] | objects | .model),
         error: {kind: $kind, message: $msg,
                 retryable: ($kind == "ollama_not_running" or $kind == "stream_interrupted"),
                 http_status: null, detail: $detail},
         attempts: 1, partial_bytes: $bytes, worker: $w, metadata: ($req[0] | objects | .metadata)}' >"$tmp"
    sync "$tmp"
}

fail() { # id kind message [detail]
    local id=$1 bytes=0
    [[ -f active/$id.partial ]] && bytes=$(stat -c %s "active/$id.partial")
    error_env "$id" "$2" "$3" "$bytes" "${4:-}"
    if ((bytes > 0)); then mv -T "active/$id.partial" "failed/$id.partial"; else rm -f "active/$id.partial"; fi
    mv -T "active/$id.json" "failed/$id.json"
    mv -T "failed/.$id.error.json.tmp" "failed/$id.error.json"
    rm -f "active/$id.ndjson"
    sync failed active
    log "$id failed: $2: $3"
}

run_job() { # id
    local id=$1 req=active/$1.json part=active/$1.partial raw=active/$1.ndjson
    local started queued finished last err
    started=$(now)
    queued=$(date -u -r "$req" +%Y-%m-%dT%H:%M:%S.%3NZ)
    jq -c '
        if type != "object" then error("the request must be a JSON object")
        elif (.model | type) != "string" then error("field model: expected a string")
        elif has("prompt") == has("messages") then error("exactly one of prompt and messages is required")
        else . end
        | {model,
           messages: ((if .system then [{role: "system", content: .system}] else [] end)
                      + (if has("messages") then .messages else [{role: "user", content: .prompt}] end)),
           stream: true}
          + (with_entries(select(.key == "options" or .key == "format" or .key == "keep_alive"
                                 or .key == "think" or .key == "tools")))' "$req" |
        curl -sS -N --fail-with-body -H 'Content-Type: application/json' --data-binary @- "$URL/api/chat" |
        tee "$raw" |
        jq --unbuffered -j 'select(has("message")) | .message.content // empty' >"$part"
    local rcs=("${PIPESTATUS[@]}")
    if ((rcs[0] != 0)); then
        fail "$id" invalid_request "the request is not a valid request object"
        return
    fi
    if ((rcs[1] != 0)); then
        err=$(jq -r '.error? // empty' "$raw" 2>/dev/null | tail -n 1)
        case ${rcs[1]} in
        7) fail "$id" ollama_not_running "Ollama not running at $URL. Start it with \`ollama serve\`" ;;
        22) if [[ $err == *"not found"* ]]; then
                local model
                model=$(jq -r .model "$req")
                fail "$id" model_not_installed "Model '$model' is not installed. Run \`ollama pull $model\`" "$err"
            else
                fail "$id" ollama_error "Ollama answered an error: $err" "$err"
            fi ;;
        *) fail "$id" stream_interrupted "the stream broke (curl exit ${rcs[1]})" ;;
        esac
        return
    fi
    last=$(tail -n 1 "$raw")
    if [[ $last == *'"error"'* ]]; then
        fail "$id" ollama_error "Ollama answered an error: $last" "$last"
        return
    fi
    finished=$(now)
    jq -n --arg id "$id" --arg w "$WORKER" --arg q "$queued" --arg s "$started" --arg f "$finished" \
        --rawfile content "$part" --argjson last "$last" --slurpfile req "$req" '
        def ms(x): ((x // 0) / 1e6);
        {id: $id, status: "done", model: $req[0].model,
         message: {role: "assistant", content: $content},
         done_reason: $last.done_reason,
         usage: {prompt_tokens: ($last.prompt_eval_count // 0), completion_tokens: ($last.eval_count // 0)},
         timing: {queued_at: $q, started_at: $s, finished_at: $f,
                  load_ms: ms($last.load_duration), prompt_eval_ms: ms($last.prompt_eval_duration),
                  eval_ms: ms($last.eval_duration), total_ms: ms($last.total_duration),
                  tokens_per_second: (if ($last.eval_duration // 0) > 0
                                      then $last.eval_count / ($last.eval_duration / 1e9) else 0 end)},
         attempts: 1, worker: $w, metadata: $req[0].metadata}' >"done/.$id.result.json.tmp"
    sync "$part" "done/.$id.result.json.tmp"
    mv -T "$part" "done/$id.txt"
    mv -T "$req" "done/$id.json"
    mv -T "done/.$id.result.json.tmp" "done/$id.result.json"
    rm -f "$raw"
    sync done active
    log "$id done"
}

claim() { # name in incoming/ -> sets CLAIMED to the id, returns 0 if claimed
    local name=$1 src=incoming/$1 base id n=1
    CLAIMED=
    [[ $name == .* || $name != *.json ]] && return 1
    if [[ -L $src || (-e $src && ! -f $src) ]]; then # symlink, FIFO, device, directory
        base=${name%.json}
        id=$base
        while [[ -e failed/$id.json || -L failed/$id.json ]]; do n=$((n + 1)); id="$base~$n"; done
        mv -n -T "$src" "failed/$id.json" 2>/dev/null || return 1
        jq -n --arg id "$id" --arg w "$WORKER" '{id: $id, status: "failed", model: null,
            error: {kind: "invalid_request", message: "the request is not a regular file", retryable: false,
                    http_status: null, detail: null}, attempts: 1, partial_bytes: 0, worker: $w, metadata: null}' \
            >"failed/.$id.error.json.tmp" && sync "failed/.$id.error.json.tmp" &&
            mv -T "failed/.$id.error.json.tmp" "failed/$id.error.json"
        return 1
    fi
    [[ -f $src ]] || return 1
    base=$(jq -r 'if type == "object" and (.id | type) == "string"
                     and (.id | test("^[A-Za-z0-9._-]{1,128}$")) and (.id | startswith(".") | not)
                  then .id else empty end' "$src" 2>/dev/null)
    [[ -n $base ]] || base=${name%.json}
    id=$base
    while :; do
        if [[ ! -e active/$id.json && ! -e done/$id.json && ! -e failed/$id.json ]]; then
            mv -n -T "$src" "active/$id.json" 2>/dev/null || return 1 # source gone: another worker has it
            if [[ ! -e $src ]]; then
                CLAIMED=$id
                return 0
            fi
        fi
        n=$((n + 1))
        id="$base~$n"
    done
}

PIDS=()
wait_for_slot() {
    local p keep
    while :; do
        keep=()
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && keep+=("$p"); done
        PIDS=("${keep[@]}")
        ((${#PIDS[@]} < CONC)) && return
        wait -n "${PIDS[@]}" 2>/dev/null
    done
}

dispatch() { # name
    wait_for_slot
    ((STOPPING)) && return
    claim "$1" || return
    run_job "$CLAIMED" &
    PIDS+=($!)
}

# orphans of an earlier run go back to incoming/
for f in active/*.json; do
    [[ -e $f ]] && mv -n -T "$f" "incoming/${f#active/}"
done
rm -f active/*.partial active/*.ndjson

STOPPING=0
coproc INW { exec inotifywait -m -e moved_to -e close_write --format '%f' incoming 2>&1; }
INW_PID_SAVED=$INW_PID
# bash restarts a `read` after a trapped signal: ending inotifywait ends the read
trap 'STOPPING=1; kill "$INW_PID_SAVED" 2>/dev/null' TERM INT
while read -r line <&"${INW[0]}"; do
    [[ $line == "Watches established." ]] && break
done
log "watching $SPOOL/incoming (concurrency $CONC, ollama $URL)"
while read -r name; do
    dispatch "$name"
done < <(ls -1tr incoming)
while ((!STOPPING)); do
    if read -r name <&"${INW[0]}"; then
        dispatch "$name"
    elif ((!STOPPING)); then
        log "inotifywait ended"
        break
    fi
done
log "stopping: letting running jobs finish"
kill "$INW_PID_SAVED" 2>/dev/null
wait "${PIDS[@]}" 2>/dev/null
exit 0
