"""A webhook receiver for the tests, run as its own process so a test can kill it (SIGKILL) and start it again.

Usage: python receiver.py PORT SECRET LOGFILE. Each POST is checked (HMAC) and appended to LOGFILE as one JSON line:
{"event": id, "valid": bool, "order": number}. It prints "listening" once it accepts connections."""

import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, SECRET, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp = self.headers["X-Jiesu-Timestamp"]
        expected = "sha256=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, self.headers["X-Jiesu-Signature"])
        data = json.loads(body)
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"event": data["id"], "valid": valid, "order": data["order"]}) + "\n")
        self.send_response(204 if valid else 401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("listening", flush=True)  # the test waits for this line instead of polling the port
server.serve_forever()
