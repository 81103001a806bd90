#!/usr/bin/env python3
"""A sample SSE endpoint on 127.0.0.1:<port> for screenshots: a dozen realistic ntfy-style
messages (titles, tags, priorities, links, Markdown, one without a title, one plain text), sent
once at connect (resumed with Last-Event-ID), then `:` heartbeats. Used by screenshots.sh."""
import json, sys, time, http.server, socketserver

EVENTS = [
    ("message", {"title": "Nightly backup finished", "message": "3 volumes, 41.2 GB, took 18 min.", "tags": ["floppy_disk", "nas"], "priority": 2}),
    ("message", {"title": "Deploy finished", "message": "api v2.14.0 is live on prod-eu-1 and prod-us-2.\nRollout took 4 min 12 s.", "tags": ["rocket", "prod"], "click": "https://deploy.example.com/runs/4242"}),
    ("build", {"title": "Build #1287 passed", "message": "main @ 9f3c2e1: 1,204 tests, 0 failures.", "tags": ["white_check_mark", "ci"], "url": "https://ci.example.com/builds/1287"}),
    ("message", "Plain text from a shell script: rsync of /srv/media done (0 errors)."),
    ("message", {"title": "Certificate expires soon", "message": "**shop.example.com** expires in *9 days*.\n\nRenew with:\n\n```\ncertbot renew --cert-name shop.example.com\n```", "markdown": True, "tags": ["lock", "warning"], "priority": 4, "click": "https://status.example.com/certs"}),
    ("message", {"message": "Door sensor: front door opened while armed.", "tags": ["house", "rotating_light"], "priority": 5}),
    ("build", {"title": "Build #1288 failed", "message": "## 2 tests failed\n\n- `api::orders::refund_twice` — expected 409, got 500\n- `web::checkout::timeout` timed out after 30 s\n\nSee the [build log](https://ci.example.com/builds/1288/log) or [rerun](javascript:alert(1)).", "markdown": True, "tags": ["x", "ci"], "priority": 4, "url": "https://ci.example.com/builds/1288"}),
    ("message", {"title": "Disk almost full", "message": "/var on db-1 is at 91% (182 GB of 200 GB).\nLargest: /var/lib/postgresql (164 GB).", "tags": ["warning", "db-1"], "priority": 4}),
    ("message", {"title": "Weekly report ready", "message": "Visitors +12%, orders +4%, refunds −2%.", "tags": ["bar_chart"], "click": "https://analytics.example.com/weekly"}),
    ("message", {"title": "Server room", "message": "Temperature back to normal: 21.5 °C.", "tags": ["sunny"], "priority": 3}),
]

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        last = self.headers.get("Last-Event-ID")
        start = int(last) + 1 if last and last.isdigit() else 0
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        try:
            for i, (kind, data) in enumerate(EVENTS):
                if i < start:
                    continue
                text = data if isinstance(data, str) else json.dumps(data)
                self.wfile.write(f"id: {i}\nevent: {kind}\ndata: {text}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.05)
            while True:
                time.sleep(15)
                self.wfile.write(b":\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
