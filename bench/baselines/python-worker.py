#!/usr/bin/env python3
"""Baseline spool worker in Python, for the benchmark only.

What a competent engineer writes in an afternoon, following the spool's folder
protocol (see /work/shared/design/CONTRACT.md, "Folders"):

- watches incoming/ with inotify (inotify_simple), after a first scan oldest first;
- claims a job with link(incoming/NAME.json, active/ID.json) + unlink(incoming/NAME.json),
  which never replaces a file and is safe against a second worker;
- runs it with the official ollama client (`stream=True`) in a ThreadPoolExecutor(N),
  claiming only when a thread is free, appending each chunk to active/ID.partial;
- finishes by writing done/.ID.result.json.tmp (fsync), renaming the fsynced partial to
  done/ID.txt, the request to done/ID.json and the temp result to done/ID.result.json
  (last, so a reader who sees it sees a complete job), then fsyncing done/ and active/.

Left out on purpose (an afternoon's work): retries with backoff, pausing when Ollama is
down, deadlines, several workers' orphan recovery (orphans in active/ are simply put
back at start), the request table's full validation.

    python-worker.py --spool DIR --ollama-url URL --concurrency N
"""
import argparse
import collections
import datetime
import json
import os
import re
import signal
import socket
import stat
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import ollama
from inotify_simple import INotify, flags

ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
FOLDERS = ("tmp", "incoming", "active", "done", "failed")


def log(msg):
    sys.stderr.write(f"{datetime.datetime.now().isoformat(timespec='milliseconds')} {msg}\n")
    sys.stderr.flush()


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path, data):
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class Stop(Exception):
    pass


class Worker:
    def __init__(self, spool, url, concurrency):
        self.spool = os.path.abspath(spool)
        self.d = {name: os.path.join(self.spool, name) for name in FOLDERS}
        self.url = url
        self.client = ollama.Client(host=url)
        self.concurrency = concurrency
        self.slots = threading.Semaphore(concurrency)
        self.pool = ThreadPoolExecutor(max_workers=concurrency)
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}"
        self.claim_lock = threading.Lock()

    # ------------------------------------------------------------------ claiming
    def taken(self, job_id):
        return any(
            os.path.lexists(os.path.join(self.d[folder], job_id + ext))
            for folder, ext in (("active", ".json"), ("done", ".json"), ("failed", ".json"))
        )

    def claim(self, name):
        """Return the job id if we claimed incoming/NAME, else None."""
        if name.startswith(".") or not name.endswith(".json"):
            return None
        src = os.path.join(self.d["incoming"], name)
        try:
            st = os.lstat(src)
        except FileNotFoundError:
            return None
        base = name[:-5]
        if stat.S_ISREG(st.st_mode):
            try:
                with open(src, "rb") as f:
                    req = json.loads(f.read())
                cand = req.get("id") if isinstance(req, dict) else None
                if isinstance(cand, str) and ID_RE.match(cand) and not cand.startswith("."):
                    base = cand
            except (OSError, ValueError):
                pass
        if base.startswith(".") or not ID_RE.match(base):
            base = "job"
        with self.claim_lock:
            n = 1
            while True:
                job_id = base if n == 1 else f"{base}~{n}"
                n += 1
                if self.taken(job_id):
                    continue
                dst = os.path.join(self.d["active"], job_id + ".json")
                if not stat.S_ISREG(st.st_mode):
                    # a symlink, FIFO, device or directory: moved as it is into failed/
                    dst = os.path.join(self.d["failed"], job_id + ".json")
                    if os.path.lexists(dst):
                        continue
                    try:
                        os.rename(src, dst)
                    except FileNotFoundError:
                        return None
                    tmp = self.write_error(job_id, None, "invalid_request", "the request is not a regular file", 0, time.time())
                    os.rename(tmp, os.path.join(self.d["failed"], job_id + ".error.json"))
                    fsync_dir(self.d["failed"])
                    return None
                try:
                    os.link(src, dst)  # fails if dst exists: never replaces
                except FileExistsError:
                    continue
                except FileNotFoundError:
                    return None  # another worker took it
                try:
                    os.unlink(src)
                except FileNotFoundError:
                    os.unlink(dst)  # another worker linked it too and won the unlink
                    return None
                return job_id

    # ------------------------------------------------------------------ running
    def run_job(self, job_id):
        act = os.path.join(self.d["active"], job_id + ".json")
        part = os.path.join(self.d["active"], job_id + ".partial")
        started = time.time()
        try:
            queued = os.stat(act).st_mtime
        except OSError:
            queued = started
        req = None
        written = 0
        try:
            with open(act, "rb") as f:
                req = json.loads(f.read())
            if not isinstance(req, dict):
                raise ValueError("the request must be a JSON object")
            model = req.get("model")
            if not isinstance(model, str) or not model:
                raise ValueError("field 'model': expected a string")
            if ("prompt" in req) == ("messages" in req):
                raise ValueError("exactly one of 'prompt' and 'messages' is required")
            if "prompt" in req:
                messages = [{"role": "user", "content": req["prompt"]}]
            else:
                messages = list(req["messages"])
            if req.get("system"):
                messages.insert(0, {"role": "system", "content": req["system"]})
        except (OSError, ValueError, TypeError) as e:
            return self.fail(job_id, req, "invalid_request", str(e), 0, started)
        parts, thinking, last = [], [], None
        try:
            with open(part, "wb") as p:
                for chunk in self.client.chat(
                    model=model,
                    messages=messages,
                    stream=True,
                    options=req.get("options"),
                    format=req.get("format"),
                    keep_alive=req.get("keep_alive"),
                    think=req.get("think"),
                    tools=req.get("tools"),
                ):
                    text = chunk.message.content or ""
                    if text:
                        b = text.encode()
                        p.write(b)
                        p.flush()
                        written += len(b)
                        parts.append(text)
                    if chunk.message.thinking:
                        thinking.append(chunk.message.thinking)
                    last = chunk
                os.fsync(p.fileno())
        except ollama.ResponseError as e:
            if e.status_code == 404:
                return self.fail(job_id, req, "model_not_installed", f"Model '{model}' is not installed. Run `ollama pull {model}`.", written, started, e.status_code, e.error)
            return self.fail(job_id, req, "ollama_error", f"Ollama answered {e.status_code}: {e.error}", written, started, e.status_code, e.error)
        except (httpx.ConnectError, ConnectionError) as e:
            return self.fail(job_id, req, "ollama_not_running", f"Ollama not running at {self.url}. Start it with `ollama serve`", written, started, None, str(e))
        except (httpx.HTTPError, OSError) as e:
            return self.fail(job_id, req, "stream_interrupted", f"the stream broke after {written} bytes: {e}", written, started, None, str(e))
        finished = time.time()
        content = "".join(parts)

        def ms(k):
            v = getattr(last, k, None) if last is not None else None
            return round(v / 1e6, 3) if v else 0

        eval_count = getattr(last, "eval_count", None) or 0
        eval_ns = getattr(last, "eval_duration", None) or 0
        result = {
            "id": job_id,
            "status": "done",
            "model": model,
            "message": {"role": "assistant", "content": content, "thinking": "".join(thinking) or None,
                        "tool_calls": [tc.model_dump() for tc in (last.message.tool_calls or [])] if last else []},
            "done_reason": getattr(last, "done_reason", None),
            "usage": {"prompt_tokens": getattr(last, "prompt_eval_count", None) or 0, "completion_tokens": eval_count},
            "timing": {
                "queued_at": rfc3339(queued), "started_at": rfc3339(started), "finished_at": rfc3339(finished),
                "load_ms": ms("load_duration"), "prompt_eval_ms": ms("prompt_eval_duration"), "eval_ms": ms("eval_duration"),
                "total_ms": ms("total_duration"), "tokens_per_second": round(eval_count / (eval_ns / 1e9), 2) if eval_ns else 0,
            },
            "attempts": 1,
            "worker": self.worker_name,
            "metadata": req.get("metadata"),
        }
        done = self.d["done"]
        tmp = os.path.join(done, f".{job_id}.result.json.tmp")
        write_synced(tmp, json.dumps(result, ensure_ascii=False).encode() + b"\n")
        os.rename(part, os.path.join(done, job_id + ".txt"))
        os.rename(act, os.path.join(done, job_id + ".json"))
        os.rename(tmp, os.path.join(done, job_id + ".result.json"))
        fsync_dir(done)
        fsync_dir(self.d["active"])
        log(f"{job_id} done ({written} bytes)")

    def write_error(self, job_id, req, kind, message, written, started, http_status=None, detail=None):
        failed = self.d["failed"]
        env = {
            "id": job_id, "status": "failed", "model": req.get("model") if isinstance(req, dict) else None,
            "error": {"kind": kind, "message": message, "retryable": kind in ("ollama_not_running", "stream_interrupted"),
                      "http_status": http_status, "detail": detail},
            "attempts": 1, "partial_bytes": written, "worker": self.worker_name,
            "metadata": req.get("metadata") if isinstance(req, dict) else None,
        }
        tmp = os.path.join(failed, f".{job_id}.error.json.tmp")
        write_synced(tmp, json.dumps(env, ensure_ascii=False).encode() + b"\n")
        return tmp

    def fail(self, job_id, req, kind, message, written, started, http_status=None, detail=None):
        failed = self.d["failed"]
        tmp = self.write_error(job_id, req, kind, message, written, started, http_status, detail)
        part = os.path.join(self.d["active"], job_id + ".partial")
        if os.path.exists(part):
            if written:
                os.rename(part, os.path.join(failed, job_id + ".partial"))
            else:
                os.unlink(part)
        os.rename(os.path.join(self.d["active"], job_id + ".json"), os.path.join(failed, job_id + ".json"))
        os.rename(tmp, os.path.join(failed, job_id + ".error.json"))
        fsync_dir(failed)
        fsync_dir(self.d["active"])
        log(f"{job_id} failed: {kind}: {message}")

    def job_done(self, fut):
        self.slots.release()
        exc = fut.exception()
        if exc is not None:
            log(f"job crashed: {exc!r}")

    # ------------------------------------------------------------------ main loop
    def main(self):
        for path in self.d.values():
            os.makedirs(path, exist_ok=True)
        # orphans from a previous run go back to incoming/
        for name in os.listdir(self.d["active"]):
            p = os.path.join(self.d["active"], name)
            if name.endswith(".partial"):
                os.unlink(p)
            elif name.endswith(".json"):
                dst = os.path.join(self.d["incoming"], name)
                if not os.path.lexists(dst):
                    os.rename(p, dst)
        ino = INotify()
        ino.add_watch(self.d["incoming"], flags.MOVED_TO | flags.CLOSE_WRITE)
        pending = collections.deque()
        existing = []
        for e in os.scandir(self.d["incoming"]):
            try:
                existing.append((e.stat(follow_symlinks=False).st_mtime_ns, e.name))
            except FileNotFoundError:
                pass
        pending.extend(name for _, name in sorted(existing))
        log(f"watching {self.d['incoming']} (concurrency {self.concurrency}, ollama {self.url})")

        def on_term(signum, frame):
            raise Stop()

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        try:
            while True:
                if not pending:
                    pending.extend(ev.name for ev in ino.read())  # blocks
                    continue
                self.slots.acquire()
                pending.extend(ev.name for ev in ino.read(timeout=0))
                job_id = None
                while pending and job_id is None:
                    job_id = self.claim(pending.popleft())
                if job_id is None:
                    self.slots.release()
                    continue
                self.pool.submit(self.run_job, job_id).add_done_callback(self.job_done)
        except Stop:
            log("stopping: letting running jobs finish")
        self.pool.shutdown(wait=True)
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spool", default=os.environ.get("VIBES_SPOOL", "./spool"))
    ap.add_argument("--ollama-url", default="http://127.0.0.1:11434")
    ap.add_argument("--concurrency", type=int, default=1)
    a = ap.parse_args()
    if a.concurrency < 1:
        ap.error("--concurrency must be at least 1")
    sys.exit(Worker(a.spool, a.ollama_url, a.concurrency).main())


if __name__ == "__main__":
    main()
