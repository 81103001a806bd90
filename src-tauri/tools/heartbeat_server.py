#!/usr/bin/env python3
"""An idle SSE endpoint on 127.0.0.1:<port>: one event at connect, then only `:` heartbeats every
15 s, like a quiet production stream. Used by measure.sh for the idle-CPU figure."""
import sys, time, http.server, socketserver

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(b'id: hello\nevent: hello\ndata: {"title":"idle stream"}\n\n')
        self.wfile.flush()
        try:
            while True:
                time.sleep(15)
                self.wfile.write(b":\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
