#!/usr/bin/env python3
"""Static-file HTTP/1.1 server with fault injection, for distill's tests.

Serves the files under --root on 127.0.0.1 only (threaded, keep-alive, GET and
HEAD, single byte ranges). Python 3 standard library only.

Usage:
    python3 http_server.py --root DIR [--port 0] --port-file F --pid-file F \
        [--faults JSON_OR_FILE] [--fail500 REGEX:N] [--truncate REGEX:K:N] \
        [--status REGEX:CODE:N] [--delay REGEX:SECONDS:N] [--log FILE]
        [--basic-auth USER:PASSWORD]

    --port 0 (the default) picks a free port; the port actually bound is
    written to --port-file (atomically: readers never see a partial number) and
    the server's PID to --pid-file. Stop it with `kill $(cat PIDFILE)`.

Faults: each rule matches request paths (the URL path, without the query) by
Python regex `re.search`, and applies to the first `times` matching requests
(times -1 = forever). Rules are checked in order; the first rule that still
has uses left wins. As JSON (inline text, or a path to a file holding it):

    [{"path": "Packages\\.xz$", "status": 500, "times": 2},
     {"path": "\\.deb$", "truncate": 100, "times": 1},
     {"path": "InRelease$", "delay": 3, "times": 1},
     {"path": "^/old/", "redirect": "/new/", "times": -1}]

    status N     respond N (with a short text body) instead of the file
    truncate K   send the full Content-Length header but only K body bytes,
                 then close the connection
    delay S      sleep S seconds before answering normally
    redirect P   302 to the path with the regex match replaced by P

The CLI shortcuts --fail500 REGEX:N, --truncate REGEX:K:N, --status REGEX:CODE:N
and --delay REGEX:SECONDS:N append rules (repeatable).

Control endpoints (not files): GET /__stats returns a JSON object
{"requests": {path: count}, "faults": [{"rule": i, "path": path}...]};
POST /__faults with a JSON rule list replaces the rules; POST /__reset clears
the counters.
"""

import argparse
import base64
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


class State:
    def __init__(self, root, rules, log_path):
        self.root = os.path.realpath(root)
        self.lock = threading.Lock()
        self.log_path = log_path
        self.set_rules(rules)
        self.requests = {}
        self.faults = []
        self.basic_auth = None

    def set_rules(self, rules):
        compiled = []
        for rule in rules:
            rule = dict(rule)
            rule["regex"] = re.compile(rule["path"])
            rule["left"] = int(rule.get("times", 1))
            compiled.append(rule)
        with getattr(self, "lock", threading.Lock()):
            self.rules = compiled

    def take_fault(self, path):
        """Counts the request and returns the rule to apply to it, if any."""
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            for index, rule in enumerate(self.rules):
                if rule["left"] == 0 or not rule["regex"].search(path):
                    continue
                if rule["left"] > 0:
                    rule["left"] -= 1
                self.faults.append({"rule": index, "path": path})
                return rule
        return None

    def log(self, line):
        if not self.log_path:
            return
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")


def parse_range(header, size):
    """Returns (start, end_inclusive) for a single 'bytes=' range, None for
    no/ignored range, or 'bad' when unsatisfiable."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    spec = header[len("bytes="):].strip()
    first, _, last = spec.partition("-")
    try:
        if first == "":
            length = int(last)
            if length <= 0:
                return "bad"
            return (max(0, size - length), size - 1) if size > 0 else "bad"
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return "bad"
    return (start, min(end, size - 1))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "distill-test-http/1.0"

    def log_message(self, fmt, *args):  # quiet on stderr; optional file log
        self.server.state.log("%s %s" % (self.address_string(), fmt % args))

    def send_text(self, code, text, extra_headers=()):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_request_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def do_POST(self):
        state = self.server.state
        path = urlsplit(self.path).path
        body = self.read_request_body()
        if path == "/__faults":
            try:
                state.set_rules(json.loads(body.decode() or "[]"))
            except (ValueError, KeyError, re.error) as e:
                self.send_text(400, "bad rules: %s\n" % e)
                return
            self.send_text(200, "ok\n")
        elif path == "/__reset":
            with state.lock:
                state.requests = {}
                state.faults = []
            self.send_text(200, "ok\n")
        else:
            self.send_text(405, "method not allowed\n")

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def serve(self, head):
        state = self.server.state
        path = unquote(urlsplit(self.path).path)
        if state.basic_auth and path != "/__stats":
            expected = "Basic " + base64.b64encode(state.basic_auth.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_text(401, "authorization required\n",
                               [("WWW-Authenticate", 'Basic realm="distill-test"')])
                return
        if path == "/__stats":
            with state.lock:
                stats = json.dumps({"requests": state.requests, "faults": state.faults})
            self.send_text(200, stats + "\n")
            return
        rule = state.take_fault(path)
        truncate = None
        if rule is not None:
            if "delay" in rule:
                time.sleep(float(rule["delay"]))
            if "status" in rule:
                self.send_text(int(rule["status"]), "injected fault\n")
                return
            if "redirect" in rule:
                target = rule["regex"].sub(rule["redirect"], path, count=1)
                self.send_text(302, "redirect\n", [("Location", target)])
                return
            if "truncate" in rule:
                truncate = int(rule["truncate"])

        full = os.path.realpath(os.path.join(state.root, path.lstrip("/")))
        if full != state.root and not full.startswith(state.root + os.sep):
            self.send_text(403, "forbidden\n")
            return
        if not os.path.isfile(full):
            self.send_text(404, "not found\n")
            return
        with open(full, "rb") as f:
            data = f.read()
        size = len(data)
        rng = parse_range(self.headers.get("Range"), size)
        if rng == "bad":
            self.send_text(416, "range not satisfiable\n", [("Content-Range", "bytes */%d" % size)])
            return
        if rng is None:
            code, body = 200, data
        else:
            code, body = 206, data[rng[0]:rng[1] + 1]
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", self.date_time_string(int(os.path.getmtime(full))))
        if rng is not None:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (rng[0], rng[1], size))
        if truncate is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        if truncate is not None:
            self.wfile.write(body[:truncate])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--pid-file")
    parser.add_argument("--faults", help="JSON rule list, inline or a file name")
    parser.add_argument("--fail500", action="append", default=[], metavar="REGEX:N")
    parser.add_argument("--truncate", action="append", default=[], metavar="REGEX:K:N")
    parser.add_argument("--status", action="append", default=[], metavar="REGEX:CODE:N")
    parser.add_argument("--delay", action="append", default=[], metavar="REGEX:SECONDS:N")
    parser.add_argument("--log")
    parser.add_argument("--basic-auth", metavar="USER:PASSWORD",
                        help="answer 401 to requests without these credentials")
    args = parser.parse_args()

    rules = []
    if args.faults:
        text = args.faults
        if os.path.exists(text):
            with open(text, encoding="utf-8") as f:
                text = f.read()
        rules.extend(json.loads(text))
    # REGEX may itself contain ':'; the numeric fields are taken from the right.
    for spec in args.fail500:
        regex, times = spec.rsplit(":", 1)
        rules.append({"path": regex, "status": 500, "times": int(times)})
    for spec in args.truncate:
        regex, keep, times = spec.rsplit(":", 2)
        rules.append({"path": regex, "truncate": int(keep), "times": int(times)})
    for spec in args.status:
        regex, code, times = spec.rsplit(":", 2)
        rules.append({"path": regex, "status": int(code), "times": int(times)})
    for spec in args.delay:
        regex, seconds, times = spec.rsplit(":", 2)
        rules.append({"path": regex, "delay": float(seconds), "times": int(times)})

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args.root, rules, args.log)
    server.state.basic_auth = args.basic_auth
    if args.pid_file:
        write_atomic(args.pid_file, "%d\n" % os.getpid())
    if args.port_file:
        write_atomic(args.port_file, "%d\n" % server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
