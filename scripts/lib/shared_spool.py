"""Two "machines" sharing one spool on JuiceFS, for scripts/check-shared-spool and
bench/shared-spool.

One JuiceFS volume (metadata in a redis-server on a loopback port, data in a local folder) is
mounted twice with FUSE: mount A and mount B stand for two machines. Workers run in UTS
namespaces of their own (`unshare --uts`), so each machine's workers have its host name
(machine-a, machine-b), as `worker` in envelopes and `status` show. Everything started here is
stopped by its PID, and both mounts are unmounted, however the run ends (see Cluster.stop).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE_SOURCE = os.path.join(REPO, "bench", "fake-ollama", "fake-ollama.c")


def say(text):
    print(text, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, condition, timeout, every=0.05):
    """Polls `condition` until it returns something true, or fails naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for: {what}")


def rfc3339(text):
    """Seconds since 1970 of the worker's `2026-11-25T04:15:00.123Z`."""
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Process:
    """A process started here, with its log; stopped by its PID (and, for a JuiceFS mount, the
    child that serves the mount, also by PID)."""

    def __init__(self, name, argv, log, env=None):
        self.name = name
        self.log = log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def children(self):
        """Its child processes, by PID (a child is listed under the thread that forked it)."""
        pids = []
        try:
            for task in os.listdir(f"/proc/{self.pid}/task"):
                with open(f"/proc/{self.pid}/task/{task}/children") as f:
                    pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return pids

    def kill(self, sig=signal.SIGKILL, with_children=False):
        pids = (self.children() if with_children else []) + [self.pid]
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait()

    def stop(self, grace=10):
        """SIGTERM, then SIGKILL after `grace` seconds."""
        if not self.alive():
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill(with_children=True)


class Cluster:
    """Redis, one JuiceFS volume, two mounts; fakes and workers on them."""

    def __init__(self, juicefs, worker_bin, work=None, heartbeat=2, keep=False):
        self.juicefs = juicefs
        self.bin = worker_bin
        self.work = work or tempfile.mkdtemp(prefix="vibes-shared-")
        self.heartbeat = heartbeat
        self.keep = keep
        self.processes = []
        self.mounts = {}  # machine -> (Process, path)
        self.redis = None
        self.meta = None

    # ------------------------------------------------------------------ set-up

    def start(self):
        redis_port = free_port()
        os.makedirs(f"{self.work}/redis")
        self.redis = self.spawn("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly", "no", "--dir", f"{self.work}/redis"])
        wait_for("redis answers", lambda: self._connects(redis_port), 10)
        self.meta = f"redis://127.0.0.1:{redis_port}/1"
        subprocess.run([self.juicefs, "format", "--storage", "file", "--bucket", f"{self.work}/data/", self.meta, "vibes"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for machine in ("a", "b"):
            self.mount(machine)
        return self

    @staticmethod
    def _connects(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def spawn(self, name, argv, env=None):
        process = Process(name, argv, f"{self.work}/{name}.log", env=env)
        self.processes.append(process)
        return process

    def mount(self, machine):
        """Mounts the volume as machine `machine` (in the foreground, as a child of this script)."""
        path = f"{self.work}/mnt-{machine}"
        os.makedirs(path, exist_ok=True)
        process = self.spawn(f"juicefs-{machine}", [self.juicefs, "mount", "--no-usage-report", "--heartbeat", str(self.heartbeat),
                                                   self.meta, path])
        wait_for(f"mount {machine}", lambda: os.path.ismount(path) or not process.alive(), 30)
        if not process.alive():
            raise RuntimeError(f"juicefs mount {machine} failed: see {process.log}")
        self.mounts[machine] = (process, path)
        return path

    def spool(self, machine):
        return f"{self.mounts[machine][1]}/spool"

    def kill_machine(self, machine, workers):
        """A machine's death: its JuiceFS client and its workers killed (-9). The client goes
        first: killed after it, a worker's open files would be released by the client still
        alive (unlocking them at once), which a machine that loses power or network cannot do."""
        process, path = self.mounts.pop(machine)
        for pid in process.children() + [process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.popen.wait()
        time.sleep(0.2)
        for worker in workers:
            worker.kill()
        subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL)

    def fake(self, name, *args):
        """The C fake Ollama (bench/fake-ollama), built once into the work folder."""
        binary = f"{self.work}/fake-ollama"
        if not os.path.exists(binary):
            cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
            subprocess.run([cc, "-O2", "-o", binary, FAKE_SOURCE], check=True)
        port = free_port()
        process = self.spawn(name, [binary, "--port", str(port), "--models", "bench-1,bench-20,bench-400", *args])
        process.url = f"http://127.0.0.1:{port}"
        wait_for(f"{name} listens", lambda: self._connects(port), 10)
        return process

    def worker(self, machine, url, *args, name=None):
        """`vibes-spool run` on machine `machine`'s mount, with that machine's host name."""
        name = name or f"worker-{machine}-{len(self.processes)}"
        spool = self.spool(machine)
        argv = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', f"machine-{machine}",
                self.bin, "run", "--spool", spool, "--ollama-url", url, *args]
        process = self.spawn(name, argv)
        process.machine = machine
        # Ready once it publishes its state file (it writes it before it watches).
        state = f"{spool}/.workers/machine-{machine}-{process.pid}.json"
        wait_for(f"{name} starts", lambda: os.path.exists(state) or not process.alive(), 60)
        if not process.alive():
            raise RuntimeError(f"{name} exited: see {process.log}")
        process.state = state
        return process

    def status(self, machine):
        out = subprocess.run([self.bin, "status", "--json", "--spool", self.spool(machine)], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    # ------------------------------------------------------------------ jobs

    def drop(self, machine, job_id, model="bench-1", prompt=None):
        """A request dropped as producers should: written into tmp/, renamed into incoming/.
        Returns the time of the rename."""
        spool = self.spool(machine)
        body = json.dumps({"model": model, "prompt": prompt or job_id})
        tmp = f"{spool}/tmp/{job_id}.json"
        with open(tmp, "w") as f:
            f.write(body)
        at = time.time()
        os.rename(tmp, f"{spool}/incoming/{job_id}.json")
        return at

    def result(self, machine, job_id):
        try:
            with open(f"{self.spool(machine)}/done/{job_id}.result.json") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def names(self, machine, folder):
        return sorted(os.listdir(f"{self.spool(machine)}/{folder}"))

    # ------------------------------------------------------------------ tear-down

    def stop(self):
        """Workers and fakes (SIGTERM, then -9), the mounts (unmounted, then their clients),
        then redis: each by its PID. Safe to call twice, and after a failure at any step."""
        for process in reversed(self.processes):
            if process.name.startswith(("worker", "fake")):
                process.stop(grace=5)
        for machine, (process, path) in list(self.mounts.items()):
            if subprocess.run(["umount", path], stderr=subprocess.DEVNULL).returncode != 0:
                subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL)
            process.stop(grace=10)
            self.mounts.pop(machine)
        for process in self.processes:
            if process.alive():
                process.kill(with_children=True)
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        def on_signal(number, _frame):
            raise SystemExit(128 + number)
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        try:
            self.start()
            os.makedirs(self.spool("a"))
            for folder in ("tmp", "incoming", "active", "done", "failed", "cancel"):
                os.makedirs(f"{self.spool('a')}/{folder}")
        except BaseException:
            self.keep = True
            say(f"set-up failed; logs kept in {self.work}")
            self.stop()
            raise
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            say(f"logs kept in {self.work}")
            self.keep = True
        self.stop()
        return False
