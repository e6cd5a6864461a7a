"""The checks of scripts/check-shared-spool: two machines (two JuiceFS mounts) sharing one
spool. See shared_spool.py for the set-up; each check says what it proves. Exit 0 when all
pass; the first failure stops the run (its logs are kept and named)."""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shared_spool import Cluster, percentile, rfc3339, say, wait_for  # noqa: E402


def expected_text(token):
    """What the fake replies to a bench-1 job whose prompt is `token`."""
    return f'reply to "{token}"\n'


def streaming(c, machine, job):
    """Whether `job` runs on the spool as seen from `machine`: its partial reply has bytes."""
    try:
        return os.path.getsize(f"{c.spool(machine)}/active/{job}.partial") > 0
    except OSError:
        return False


def check_remote_drop(c, fast):
    """A job dropped on machine A, the only worker on machine B (default flags: it polls
    because the spool is on FUSE): it starts within 2 s."""
    b = c.worker("b", fast.url)
    lags = []
    for n in range(20):
        job = f"remote-{n}"
        at = c.drop("a", job)
        result = wait_for(f"{job} done", lambda: c.result("a", job), 15)
        lags.append(rfc3339(result["timing"]["started_at"]) - at)
        assert result["worker"] == f"machine-b:{b.pid}", result["worker"]
        time.sleep(random.uniform(0.05, 0.4))
    say(f"  drop on A -> start on B: p50 {percentile(lags, 0.5):.2f} s, p99 {percentile(lags, 0.99):.2f} s, max {max(lags):.2f} s")
    assert max(lags) <= 2.0, f"a remote drop waited {max(lags):.2f} s"
    log = open(b.log).read()
    assert "FUSE file system: listing incoming/ and cancel/ every" in log, "the worker did not say it polls"
    b.stop()
    return lags


def check_machine_death(c, fast, slow):
    """Machine B dies (its JuiceFS client and its worker killed -9) holding a job; machine A's
    worker, running meanwhile, recovers it once JuiceFS expires B's session (its locks go) and
    A's rescan runs."""
    b = c.worker("b", slow.url, name="worker-b-doomed")
    c.drop("b", "doomed", model="bench-400")
    wait_for("B runs it", lambda: streaming(c, "b", "doomed"), 20)
    a = c.worker("a", fast.url, "--rescan-interval", "3", name="worker-a-rescuer")
    time.sleep(4)  # a rescan of A's while B lives: it must leave B's job alone
    assert c.result("a", "doomed") is None and "doomed.json" in c.names("a", "active"), "A took a job B runs"
    died = time.time()
    c.kill_machine("b", [b])
    result = wait_for("A recovers the job", lambda: c.result("a", "doomed"), 90, every=0.2)
    took = time.time() - died
    assert result["worker"] == f"machine-a:{a.pid}", result["worker"]
    assert result["attempts"] == 2, result["attempts"]
    assert open(f"{c.spool('a')}/done/doomed.txt").read().startswith('reply to "doomed"')
    say(f"  recovered by machine A {took:.1f} s after machine B died (JuiceFS --heartbeat {c.heartbeat})")
    c.mount("b")
    a.stop()
    return b.pid, died


def check_cancel(c, slow):
    """`cancel/ID` made on machine A stops the job B's worker runs (B's inotify does not see it:
    its listing of `cancel/` does)."""
    b = c.worker("b", slow.url, name="worker-b-cancelled")
    c.drop("b", "stopme", model="bench-400")
    wait_for("B runs it", lambda: streaming(c, "b", "stopme"), 20)
    asked = time.time()
    open(f"{c.spool('a')}/cancel/stopme", "w").close()
    error = wait_for("the job is cancelled", lambda: os.path.exists(f"{c.spool('a')}/failed/stopme.error.json") and json.load(open(f"{c.spool('a')}/failed/stopme.error.json")), 15)
    took = time.time() - asked
    assert error["error"]["kind"] == "cancelled", error["error"]
    say(f"  cancel/stopme made through A: the job on B failed `cancelled` {took:.1f} s later")
    assert took <= 3, f"a remote cancel took {took:.1f} s"
    b.stop()
    for name in c.names("a", "failed"):
        if name.startswith("stopme"):
            os.remove(f"{c.spool('a')}/failed/{name}")


def check_pause(c, fast, slow):
    """Machine A's Ollama dies while A streams two jobs: one fails (`ollama_not_running`),
    A pauses and puts the other back (attempt kept); machine B, polling, runs it. A's
    `status` shows the pause and no job running."""
    a = c.worker("a", slow.url, "--concurrency", "2", "--retries", "1", "--retry-delay", "0.2", name="worker-a-paused")
    for job in ("held-1", "held-2"):
        c.drop("a", job, model="bench-400")
    wait_for("A streams both", lambda: streaming(c, "a", "held-1") and streaming(c, "a", "held-2"), 20)
    b = c.worker("b", fast.url, name="worker-b-elsewhere")
    slow.kill()
    failed = wait_for("one fails", lambda: [n for n in c.names("a", "failed") if n.endswith(".error.json")], 30)
    assert len(failed) == 1, failed
    lost = failed[0][: -len(".error.json")]
    other = "held-2" if lost == "held-1" else "held-1"
    result = wait_for(f"{other} runs on B", lambda: c.result("a", other), 30)
    assert result["worker"] == f"machine-b:{b.pid}", result["worker"]
    assert result["attempts"] == 2, f"attempts kept: {result['attempts']}"
    status = c.status("a")
    mine = [w for w in status["workers"] if w["host"] == "machine-a" and w["pid"] == a.pid]
    assert mine and mine[0]["running"] == 0 and not mine[0]["stale"], status["workers"]
    assert status["paused"] is not None, status
    assert status["running"] == [], status["running"]
    say(f"  {lost} failed (ollama_not_running), {other} put back by the paused A and done on B (attempt 2)")
    a.stop()
    b.stop()
    os.remove(f"{c.spool('a')}/failed/{lost}.error.json")  # so the exactly-once count below starts clean
    os.remove(f"{c.spool('a')}/failed/{lost}.json")
    for name in c.names("a", "failed"):
        if name.startswith(lost):
            os.remove(f"{c.spool('a')}/failed/{name}")


def check_exactly_once(c, fast, jobs, kills):
    """Three workers (two on A, one on B), jobs dropped through both mounts while workers are
    killed -9 and restarted: every job ends in done/ once, with the right text."""
    done_before = {n for n in c.names("a", "done") if n.endswith(".result.json")}
    workers = [c.worker("a", fast.url, "--concurrency", "2"), c.worker("a", fast.url, "--concurrency", "2"),
               c.worker("b", fast.url, "--concurrency", "2")]
    ids = [f"once-{n}" for n in range(jobs)]
    killed = 0
    next_kill = time.monotonic() + 1
    for n, job in enumerate(ids):
        c.drop("a" if n % 2 else "b", job, model="bench-1")
        if killed < kills and time.monotonic() >= next_kill:
            victim = random.randrange(len(workers))
            workers[victim].kill()
            workers[victim] = c.worker(workers[victim].machine, fast.url, "--concurrency", "2")
            killed += 1
            next_kill = time.monotonic() + 1
        time.sleep(0.01)
    while killed < kills:
        victim = random.randrange(len(workers))
        workers[victim].kill()
        workers[victim] = c.worker(workers[victim].machine, fast.url, "--concurrency", "2")
        killed += 1
    wait_for("every job done", lambda: len([n for n in c.names("a", "done") if n.endswith(".result.json")]) - len(done_before) >= jobs, 120, every=0.5)
    for w in workers:
        w.stop()
    done = {n[: -len(".result.json")] for n in c.names("a", "done") if n.endswith(".result.json")} - {n[: -len(".result.json")] for n in done_before}
    assert done == set(ids), f"missing {sorted(set(ids) - done)[:5]}, extra {sorted(done - set(ids))[:5]}"
    assert not [n for n in c.names("a", "failed") if n.endswith(".error.json")], c.names("a", "failed")
    assert not [n for n in c.names("a", "incoming") if not n.startswith(".")], c.names("a", "incoming")
    assert not [n for n in c.names("a", "active") if n.endswith(".json")], c.names("a", "active")
    for job in ids:
        text = open(f"{c.spool('a')}/done/{job}.txt").read()
        assert text == expected_text(job), f"{job}: {text!r}"
    say(f"  {jobs} jobs through both mounts, {kills} kill -9s: none lost, none duplicated, right text")


def check_stale(c, dead_pid, died):
    """`status`, read on machine A, lists machine B's dead worker as stale (over 30 s silent)."""
    wait = 31 - (time.time() - died)
    if wait > 0:
        time.sleep(wait)
    status = c.status("a")
    dead = [w for w in status["workers"] if w["host"] == "machine-b" and w["pid"] == dead_pid]
    assert dead and dead[0]["stale"], status["workers"]
    say(f"  status on A lists machine-b:{dead_pid} as stale ({len(status['workers'])} worker file(s) listed)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--juicefs", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()
    started = time.monotonic()
    with Cluster(args.juicefs, args.bin, keep=args.keep) as c:
        say(f"two JuiceFS mounts of one volume: {c.mounts['a'][1]}, {c.mounts['b'][1]} (metadata {c.meta})")
        fast = c.fake("fake-fast")
        slow = c.fake("fake-slow", "--token-us", "20000")
        say("== a machine's death (worker and juicefs client killed together) is recovered by the other")
        dead_pid, died = check_machine_death(c, fast, slow)
        say("== remote drop: dropped through A, run by B's worker alone")
        check_remote_drop(c, fast)
        say("== cancel/ seen from the other machine")
        check_cancel(c, slow)
        say("== a paused worker's claims run elsewhere")
        check_pause(c, fast, slow)
        say("== exactly once under kill -9")
        check_exactly_once(c, fast, args.jobs, args.kills)
        say("== status lists every worker, the dead one stale")
        check_stale(c, dead_pid, died)
    say(f"check-shared-spool: all passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
