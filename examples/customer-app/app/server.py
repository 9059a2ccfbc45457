#!/usr/bin/env python3
"""Example customer app: answers / and the health check path on APP_PORT (settings from
/etc/webapp/settings.env through systemd's EnvironmentFile). Standard library only: python3 is on
Amazon Linux 2023 out of the box."""
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("APP_PORT", "8080"))
HEALTH = os.environ.get("HEALTH_CHECK_PATH", "/healthz")
CUSTOMER = os.environ.get("CUSTOMER", "example")
ENVIRONMENT = os.environ.get("ENVIRONMENT", "local")
VERSION = os.environ.get("APP_VERSION", "dev")


class Handler(BaseHTTPRequestHandler):
    server_version = "example-app"

    def _send(self, status, body, content_type):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == HEALTH:
            self._send(200, json.dumps({"status": "ok", "version": VERSION}), "application/json")
        elif path == "/":
            self._send(200, f"<!doctype html><title>{CUSTOMER}</title><h1>{CUSTOMER} ({ENVIRONMENT})</h1><p>release {VERSION}</p>", "text/html; charset=utf-8")
        else:
            self._send(404, "not found\n", "text/plain; charset=utf-8")

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)

    # systemctl stop (the ApplicationStop hook) sends SIGTERM. shutdown() waits for serve_forever()
    # to return, so it must run on another thread: called from the handler, on the thread that
    # serves, it would wait for itself forever.
    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"listening on {PORT}, health check {HEALTH}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
