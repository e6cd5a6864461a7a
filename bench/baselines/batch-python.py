#!/usr/bin/env python3
"""Baseline for bench/batch: an OpenAI batch file (/v1/chat/completions lines) run with the official
`ollama` client, the way a competent engineer writes it in an afternoon.

    batch-python.py --input IN.jsonl --output OUT.jsonl --errors ERR.jsonl --ollama-url URL --concurrency N

asyncio: one task per line, `asyncio.Semaphore(N)` around `ollama.AsyncClient.chat(stream=False)`
(one httpx connection pool, keep-alive). Each finished line is written to the output file in OpenAI's
batch output shape (the same as vibes-spool's: `{"id","custom_id","response":{"status_code":200,
"request_id","body": chat.completion},"error":null}`), one write per line; a failed line goes to the
errors file with `"response": null` and `"error": {"code","message"}`. Both files are fsynced at the end.
Left out on purpose: retries, resuming after a crash, validation beyond what the client does.
"""
import argparse
import asyncio
import json
import os
import time

import ollama


def completion(custom_id, r):
    prompt, completion_tokens = r.prompt_eval_count or 0, r.eval_count or 0
    return {
        "id": f"chatcmpl-{custom_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": r.model,
        "choices": [{"index": 0, "message": {"role": r.message.role, "content": r.message.content},
                     "finish_reason": "length" if r.done_reason == "length" else "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                  "total_tokens": prompt + completion_tokens},
    }


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--errors", required=True)
    ap.add_argument("--ollama-url", required=True)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()

    client = ollama.AsyncClient(host=args.ollama_url)
    sem = asyncio.Semaphore(args.concurrency)
    out = open(args.output, "w")
    err = open(args.errors, "w")

    def emit(f, obj):
        f.write(json.dumps(obj, separators=(",", ":")) + "\n")
        f.flush()

    async def one(n, raw):
        req = json.loads(raw)
        cid, body = req["custom_id"], req["body"]
        opts = {}
        if body.get("max_tokens") is not None:
            opts["num_predict"] = body["max_tokens"]
        for k in ("temperature", "top_p", "seed", "stop"):
            if body.get(k) is not None:
                opts[k] = body[k]
        async with sem:
            try:
                r = await client.chat(model=body["model"], messages=body["messages"], stream=False,
                                      options=opts or None)
            except Exception as e:  # noqa: BLE001 -- the line fails alone
                status = getattr(e, "status_code", None)
                emit(err, {"id": f"batch_req_{n}", "custom_id": cid,
                           "response": {"status_code": status} if status else None,
                           "error": {"code": type(e).__name__, "message": str(e)}})
                return
        emit(out, {"id": f"batch_req_{n}", "custom_id": cid,
                   "response": {"status_code": 200, "request_id": f"req_{n}", "body": completion(cid, r)},
                   "error": None})

    with open(args.input) as f:
        await asyncio.gather(*(one(n, line) for n, line in enumerate(f, 1) if line.strip()))
    for f in (out, err):
        f.flush()
        os.fsync(f.fileno())
        f.close()


if __name__ == "__main__":
    asyncio.run(main())
