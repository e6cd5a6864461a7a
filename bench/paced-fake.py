#!/usr/bin/env python3
"""paced-fake: a fake Ollama that streams its reply one line per HTTP chunk, a gap apart,
as a model does (each token its own network read), for counting the worker's cost per chunk.

  POST /api/chat   model "pace-N": N content lines ("tok0 ", "tok1 ", ...), each flushed
                   alone, --gap-ms apart, then the final done line. Keep-alive.
  POST /api/embed  model "embed-fake": after --embed-request-ms plus --embed-input-ms per input
                   (a request's fixed cost and each input's, as on a GPU), one 8-number vector
                   per input and prompt_eval_count = the inputs' total length. Counts requests
                   and inputs (GET /stats).
  GET  /api/version, /api/tags: enough for a worker to start.

Usage: paced-fake.py [--port 0] [--gap-ms 5] [--embed-request-ms 5] [--embed-input-ms 0.2] [--port-file FILE]
Prints "listening PORT" on stdout. Standard library only.
"""
import argparse
import json
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def line(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    gap = 0.005

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client went away: nothing to answer

    def setup(self):
        super().setup()
        # Each line its own segment, at once: no Nagle coalescing behind a delayed ACK.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_json(self, obj, status=200):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/api/version":
            self.send_json({"version": "0.12.6"})
        elif self.path == "/api/tags":
            # Every model this fake answers, as far as the worker's routing needs (it sends a job
            # only to a host whose /api/tags lists its model).
            names = [f"pace-{n}" for n in sorted({1, *self.server.models})] + ["embed-fake:latest"]
            self.send_json({"models": [{"name": name, "model": name} for name in names]})
        elif self.path == "/stats":
            self.send_json(self.server.stats)
        else:
            self.send_json({"error": "not found"}, 404)

    def embed(self, request):
        raw = request.get("input", [])
        inputs = [raw] if isinstance(raw, str) else raw
        with self.server.lock:
            self.server.stats["requests"] += 1
            self.server.stats["inputs"] += len(inputs)
        time.sleep(self.server.embed_request + self.server.embed_input * len(inputs))
        vectors = [[len(t) / 100, 0.5, -0.25, 0.125, 0.0, 1.0, -1.0, 0.75] for t in inputs]
        self.send_json({"model": request.get("model"), "embeddings": vectors, "total_duration": 1000,
                        "load_duration": 0, "prompt_eval_count": sum(len(t) for t in inputs)})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        request = json.loads(body or b"{}")
        model = request.get("model", "")
        if self.path == "/api/embed" and model.split(":")[0] == "embed-fake":
            self.embed(request)
            return
        if self.path != "/api/chat" or not model.startswith("pace-"):
            self.send_json({"error": f"model '{model}' not found"}, 404)
            return
        count = int(model[5:])
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        created = "2025-01-02T03:04:05.123456789Z"

        def chunk(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        for i in range(count):
            time.sleep(self.gap)
            chunk(line({"model": model, "created_at": created,
                        "message": {"role": "assistant", "content": f"tok{i} "}, "done": False}))
        time.sleep(self.gap)
        chunk(line({"model": model, "created_at": created, "message": {"role": "assistant", "content": ""},
                    "done": True, "done_reason": "stop", "total_duration": 1000, "load_duration": 10,
                    "prompt_eval_count": 5, "prompt_eval_duration": 100, "eval_count": count,
                    "eval_duration": 800}))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--gap-ms", type=float, default=5)
    parser.add_argument("--port-file")
    parser.add_argument("--lines", default="", help="reply lengths to list in /api/tags besides 1 (comma-separated)")
    parser.add_argument("--embed-request-ms", type=float, default=5)
    parser.add_argument("--embed-input-ms", type=float, default=0.2)
    args = parser.parse_args()
    Handler.gap = args.gap_ms / 1000
    server = Server(("127.0.0.1", args.port), Handler)
    server.embed_request = args.embed_request_ms / 1000
    server.embed_input = args.embed_input_ms / 1000
    server.stats = {"requests": 0, "inputs": 0}
    server.lock = threading.Lock()
    server.models = [int(n) for n in args.lines.split(",") if n.strip()]
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(f"{port}\n")
    print(f"listening {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
