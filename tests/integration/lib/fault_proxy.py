#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 proxy in front of a registry, for distill's tests.

Listens on 127.0.0.1 only, forwards every request to --upstream (one
connection per request, `Connection: close` both ways) and, for the blob
upload PUTs (PUT .../blobs/uploads/...), applies the next fault of --faults, a
comma-separated list consumed one per upload PUT:

    reset   read half of the body, then close the connection with a TCP RST
            (nothing reaches the registry)
    lost    forward the whole upload, then close without sending the reply
            (the registry has the blob, the client does not know it)
    500     read the body, answer 500 (nothing reaches the registry)
    429     read the body, answer 429 with Retry-After: 1
    ok      forward normally
    reset*  (any fault followed by '*') that fault for every upload from then on

Standard library only. Usage:
    python3 fault_proxy.py --upstream 127.0.0.1:PORT --faults reset,lost \
        --port-file F --pid-file F [--log FILE]
The proxy writes the port it bound to --port-file (atomically) and its PID to
--pid-file; stop it with `kill $(cat PIDFILE)`. The log has one line per
request: METHOD PATH FAULT BODY_BYTES_FORWARDED.
"""
import argparse
import os
import socket
import struct
import threading

lock = threading.Lock()


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def read_exact(conn, already, length):
    body = already
    while len(body) < length:
        chunk = conn.recv(min(1 << 20, length - len(body)))
        if not chunk:
            break
        body += chunk
    return body


def reply(conn, status, reason, headers=()):
    lines = [f"HTTP/1.1 {status} {reason}", "Content-Length: 0", "Connection: close"]
    lines += list(headers)
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--faults", default="")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--log", default=os.devnull)
    args = parser.parse_args()
    faults = [f for f in args.faults.split(",") if f]
    up_host, up_port = args.upstream.rsplit(":", 1)
    log = open(args.log, "a", buffering=1)

    def next_fault():
        with lock:
            if not faults:
                return "ok"
            if faults[0].endswith("*"):
                return faults[0][:-1]
            return faults.pop(0)

    def handle(conn):
        try:
            head, rest = read_head(conn)
            if head is None:
                return
            lines = head.split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = []
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
                if name.strip().lower() in ("connection", "keep-alive", "expect"):
                    continue
                headers.append(line)
            fault = "ok"
            if method == "PUT" and "/blobs/uploads/" in path:
                fault = next_fault()
            if fault == "reset":
                read_exact(conn, rest, length // 2)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                log.write(f"{method} {path} reset 0\n")
                return
            body = read_exact(conn, rest, length)
            if fault in ("500", "429"):
                reply(conn, int(fault), "Injected",
                      ["Retry-After: 1"] if fault == "429" else [])
                log.write(f"{method} {path} {fault} 0\n")
                return
            upstream = socket.create_connection((up_host, int(up_port)))
            request = "\r\n".join([lines[0]] + headers + ["Connection: close"]) + "\r\n\r\n"
            upstream.sendall(request.encode("latin-1") + body)
            answer = b""
            while True:
                chunk = upstream.recv(1 << 20)
                if not chunk:
                    break
                answer += chunk
            upstream.close()
            log.write(f"{method} {path} {fault} {len(body)}\n")
            if fault == "lost":
                return
            conn.sendall(answer)
        except OSError:
            pass
        finally:
            conn.close()

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    with open(args.pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(args.pid_file + ".tmp", args.pid_file)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.getsockname()[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
