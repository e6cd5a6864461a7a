"""The SDK workflow of scripts/check-openai-api (see there). Starts and stops its own worker and
serve on a temporary spool; the Ollama is $OLLAMA_HOST."""
import json, os, re, signal, subprocess, sys, tempfile, time
import openai
from openai import OpenAI
from openai.types import Batch, BatchError, BatchRequestCounts, BatchUsage, FileDeleted, FileObject, Model
from openai.types.chat import ChatCompletion

BIN, MODEL, OLLAMA = os.environ["VIBES_BIN"], os.environ["CHECK_MODEL"], os.environ["OLLAMA_HOST"]
FINAL = {"completed", "failed", "expired", "cancelled"}
base = tempfile.mkdtemp(prefix="check-openai-api-")
spool = os.path.join(base, "spool")
procs, failures, seen = {}, [], []

def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok: failures.append(what)

def start(name, args, env=None):
    log = open(os.path.join(base, f"{name}.log"), "w")
    procs[name] = subprocess.Popen([BIN] + args, stderr=log, stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    return log.name

def stop(name, sig=signal.SIGTERM):
    p = procs.pop(name, None)
    if p: p.send_signal(sig); p.wait(30)

def start_serve(env=None):
    log = start("serve", ["serve", "--spool", spool, "--listen", "127.0.0.1:0"], env)
    deadline = time.time() + 30
    while time.time() < deadline:
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", open(log).read())
        if m: return m.group(1)
        time.sleep(0.05)
    sys.exit("serve did not start: " + open(log).read())

# Every JSON object the server sends, kept for validation at the end.
def keep(response):
    response.read()
    if response.headers.get("content-type", "").startswith("application/json"):
        seen.append((response.request.method, response.request.url.path, response.status_code, response.json()))

def client(url):
    return OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, http_client=openai.DefaultHttpxClient(event_hooks={"response": [keep]}))

def lines(n, tokens=8):
    return "".join(json.dumps({"custom_id": f"line-{i}", "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": MODEL, "messages": [{"role": "user", "content": f"Count to {i}."}], "max_tokens": tokens}}) + "\n" for i in range(n))

def upload(c, text, name):
    path = os.path.join(base, name)
    open(path, "w").write(text)
    with open(path, "rb") as f: return c.files.create(file=f, purpose="batch")

def wait(c, batch_id, until, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        b = c.batches.retrieve(batch_id)
        if until(b): return b
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting on {batch_id}: {b.status}")

try:
    start("worker", ["run", "--spool", spool, "--ollama-url", OLLAMA, "--concurrency", "2", "--grace", "1"])
    url = start_serve()
    c = client(url)
    # The workflow: upload, create, poll, read the output with the SDK's types.
    f = upload(c, lines(6), "six.jsonl")
    check(isinstance(f, FileObject) and f.purpose == "batch" and f.bytes == len(lines(6)), "files.create: a FileObject of the file's size")
    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"run": "ci"})
    check(b.status == "validating" and b.metadata == {"run": "ci"}, f"batches.create: {b.status}")
    b = wait(c, b.id, lambda b: b.status in FINAL)
    check(b.status == "completed" and b.request_counts.total == 6 and b.request_counts.completed == 6, f"retrieve until done: {b.status} {b.request_counts}")
    out = c.files.content(b.output_file_id).text.splitlines()
    bodies = [ChatCompletion.model_validate(json.loads(l)["response"]["body"]) for l in out]
    check(sorted(json.loads(l)["custom_id"] for l in out) == [f"line-{i}" for i in range(6)] and all(x.choices for x in bodies),
          "files.content: 6 lines, each body a ChatCompletion")
    check(b.error_file_id is None and c.files.retrieve(b.output_file_id).purpose == "batch_output", "no error file; the output file's object")
    # Paging: two more batches, listed one a page, newest first.
    small = upload(c, lines(1), "one.jsonl")
    more = [c.batches.create(input_file_id=small.id, endpoint="/v1/chat/completions", completion_window="24h").id for _ in range(2)]
    page = c.batches.list(limit=1)
    listed = [x.id for x in page]  # the SDK follows has_more/after itself
    check(page.has_more and listed == [more[1], more[0], b.id], f"batches.list paging: {listed}")
    # Cancel a batch mid-run.
    long = upload(c, lines(40, 24), "forty.jsonl")
    victim = c.batches.create(input_file_id=long.id, endpoint="/v1/chat/completions", completion_window="24h")
    wait(c, victim.id, lambda b: b.status == "in_progress" and b.request_counts.completed > 0)
    cancelled = c.batches.cancel(victim.id)
    check(cancelled.status == "cancelling" and cancelled.cancelling_at, "batches.cancel: cancelling")
    cancel_file = os.path.join(spool, "cancel", victim.id)
    # The worker acts on cancel/ID once issue 20 has landed (it brings `vibes-spool cancel`).
    worker_cancels = re.search(r"^\s+cancel\s", subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout, re.M) is not None
    if worker_cancels:
        end = wait(c, victim.id, lambda b: b.status in FINAL)
        counts = end.request_counts
        check(end.status == "cancelled" and counts.completed + counts.failed == 40 and counts.completed < 40, f"the worker cancelled it: {end.status} {counts}")
        errors = [json.loads(l) for l in c.files.content(end.error_file_id).text.splitlines()]
        check(all(e["error"]["code"] in ("batch_cancelled",) for e in errors if e["error"]["code"] != "ollama_error"), "unfinished lines: batch_cancelled")
    else:
        check(os.path.exists(cancel_file) and open(cancel_file).read() == "", "cancel/ID dropped, empty (the worker's side is issue 20's)")
    # Expiry: a 1h window, then serve restarted with its clock 2 h ahead.
    late = c.batches.create(input_file_id=long.id, endpoint="/v1/chat/completions", completion_window="1h")
    check(late.expires_at == late.created_at + 3600, "completion_window 1h: expires_at = created_at + 3600")
    stop("serve")
    c = client(start_serve({"VIBES_SERVE_CLOCK_OFFSET": "7200"}))
    now = c.batches.retrieve(late.id)
    late_cancel = os.path.join(spool, "cancel", late.id)
    if worker_cancels:
        end = wait(c, late.id, lambda b: b.status in FINAL)
        check(end.status == "expired" and end.expired_at, f"past expires_at: {end.status}")
    else:
        check(now.status == "cancelling" and json.load(open(late_cancel)) == {"reason": "expired"},
              f"past expires_at: {now.status}, cancel/ID holds reason expired")
    # Delete, and OpenAI's errors through the SDK's exceptions.
    gone = c.files.delete(small.id)
    check(isinstance(gone, FileDeleted) and gone.deleted and gone.id == small.id, "files.delete")
    for what, call, kind in [
        ("retrieve a deleted file", lambda: c.files.retrieve(small.id), openai.NotFoundError),
        ("an unknown batch", lambda: c.batches.retrieve("batch_000000000000000000000000"), openai.NotFoundError),
        ("purpose fine-tune", lambda: c.files.create(file=("ft.jsonl", lines(1).encode()), purpose="fine-tune"), openai.BadRequestError),
        ("endpoint /v1/embeddings for chat lines", lambda: c.batches.create(input_file_id=f.id, endpoint="/v1/embeddings", completion_window="24h"), openai.BadRequestError),
        ("cancel a completed batch", lambda: c.batches.cancel(b.id), openai.ConflictError),
    ]:
        try:
            call(); check(False, f"{what}: no error")
        except kind as e:
            check(isinstance(e.body, dict) and set(e.body) == {"message", "type", "param", "code"}, f"{what}: {type(e).__name__}, OpenAI's error body")
    c.models.list()
finally:
    for name in list(procs): stop(name)

# Every object sent, by its route: the SDK's model validates it and has exactly its fields.
def exact(model, obj, where):
    model.model_validate(obj, strict=False)
    if set(obj) != set(model.model_fields): failures.append(f"{where}: fields {sorted(set(obj) ^ set(model.model_fields))} differ from {model.__name__}")

def batch(obj, where):
    exact(Batch, obj, where)
    exact(BatchRequestCounts, obj["request_counts"], where)
    if obj["usage"]: exact(BatchUsage, obj["usage"], where)
    for e in (obj["errors"] or {}).get("data") or []: exact(BatchError, e, where)

for method, path, status, obj in seen:
    where = f"{method} {path} {status}"
    try:
        if status >= 400: check(set(obj) == {"error"} and set(obj["error"]) == {"message", "type", "param", "code"}, f"{where}: error shape"); continue
        if obj.get("object") == "list":
            item = {"/v1/files": lambda o, w: exact(FileObject, o, w), "/v1/batches": batch, "/v1/models": lambda o, w: exact(Model, o, w)}[path]
            for o in obj["data"]: item(o, where)
        elif obj.get("object") == "batch": batch(obj, where)
        elif "deleted" in obj: exact(FileDeleted, obj, where)
        else: exact(FileObject, obj, where)
    except Exception as e:
        failures.append(f"{where}: {e}")
check(not [f for f in failures if ": fields" in f or "validation" in f], f"{len(seen)} objects sent, each valid under the SDK's models with exactly their fields")
print(f"\n{len(failures)} failed" if failures else "\ncheck-openai-api: all checks passed")
for f in failures: print("  " + f)
if not failures: subprocess.run(["rm", "-rf", base])
sys.exit(1 if failures else 0)
