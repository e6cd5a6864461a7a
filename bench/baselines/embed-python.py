#!/usr/bin/env python3
"""Baseline for bench/embed: an OpenAI batch file of /v1/embeddings lines run with the official
`ollama` client, one input per request, as a competent engineer writes it in an afternoon.

    embed-python.py --input IN.jsonl --output OUT.jsonl --errors ERR.jsonl --ollama-url URL --concurrency N

asyncio: one task per line, `asyncio.Semaphore(N)` around `ollama.AsyncClient.embed(model, input)`
(one httpx connection pool, keep-alive), so N requests are in flight. Each finished line is written
in OpenAI's batch output shape (an embedding `list` body, as vibes-spool writes it), one write per
line; a failed line goes to the errors file. Both files are fsynced at the end.
Left out on purpose: retries, resuming after a crash, grouping inputs.
"""
import argparse
import asyncio
import json
import os

import ollama


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
        async with sem:
            try:
                extra = {"dimensions": body["dimensions"]} if body.get("dimensions") else {}
                r = await client.embed(model=body["model"], input=body["input"], **extra)
            except Exception as e:  # noqa: BLE001 -- the line fails alone
                emit(err, {"id": f"batch_req_{n}", "custom_id": cid, "response": None,
                           "error": {"code": type(e).__name__, "message": str(e)}})
                return
        tokens = r.prompt_eval_count or 0
        data = [{"object": "embedding", "index": i, "embedding": list(v)} for i, v in enumerate(r.embeddings)]
        emit(out, {"id": f"batch_req_{n}", "custom_id": cid,
                   "response": {"status_code": 200, "request_id": f"req_{n}",
                                "body": {"object": "list", "data": data, "model": r.model,
                                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}},
                   "error": None})

    with open(args.input) as f:
        await asyncio.gather(*(one(n, line) for n, line in enumerate(f, 1) if line.strip()))
    for f in (out, err):
        f.flush()
        os.fsync(f.fileno())
        f.close()


if __name__ == "__main__":
    asyncio.run(main())
