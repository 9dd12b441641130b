#!/usr/bin/env python3
"""A loopback upstream for the Dagger http(s) tests: plain HTTP and, given
a certificate, HTTPS, each on a port of its own picked by the kernel, plus
a port that accepts connections and never answers.  Writes "HTTP HTTPS
MUTE" (the port numbers) to PORTS_FILE once all three listen, then serves
until killed.

Usage: dagger_upstream.py PORTS_FILE [CERT KEY]

  GET  /hello     200 "hello over <scheme>"
  POST /echo      200 with the request body as the body
  GET  /redirect  302 to http://127.0.0.2:9/elsewhere (must not be followed)
  GET  /big       200 with 17 MiB of body (past DAGGER_HTTP_RESP_MAX)
  GET  /slow      200 "slow ok" after 0.4 s
"""
import http.server
import os
import socket
import ssl
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        if self.path == "/hello":
            self.reply(200, f"hello over {scheme}".encode())
        elif self.path == "/redirect":
            self.reply(302, b"moved", [("Location", "http://127.0.0.2:9/elsewhere")])
        elif self.path == "/slow":
            time.sleep(0.4)
            self.reply(200, b"slow ok")
        elif self.path == "/big":
            self.reply(200, b"x" * (17 << 20))
        else:
            self.reply(404, b"no such page")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.reply(200, b"echo:" + self.rfile.read(n))


def serve(srv):
    threading.Thread(target=srv.serve_forever, daemon=True).start()


def main():
    if len(sys.argv) not in (2, 4):
        sys.exit(__doc__)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serve(plain)
    https_port = 0
    if len(sys.argv) == 4:
        tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        serve(tls)
        https_port = tls.server_address[1]
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(64)                     # connections wait in the backlog: never an answer
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(f"{plain.server_address[1]} {https_port} {mute.getsockname()[1]}\n")
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    threading.Event().wait()


if __name__ == "__main__":
    main()
