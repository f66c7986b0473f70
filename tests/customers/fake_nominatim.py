"""A local, threaded stand-in for a Nominatim server, speaking its protocol.

`GET /search?q=<text>&format=jsonv2` answers a JSON list of places (`lat` / `lon` as strings,
`display_name`, ...), as https://nominatim.org/release-docs/latest/api/Search/ documents.
`server.mode` makes it misbehave the ways a real one does: "slow" (holds the answer until the
test releases it), "error" (HTTP 500), "garbage" (an HTML page), "wrong" (JSON, not places).
Every request is kept (path, query, headers) so tests can check what was asked.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PLACES = {
    "halsted": [
        {
            "place_id": 299437121,
            "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
            "osm_type": "node",
            "osm_id": 4524111341,
            "lat": "41.9035473",
            "lon": "-87.6484539",
            "category": "place",
            "type": "house",
            "place_rank": 30,
            "importance": 9.99999999995449e-06,
            "addresstype": "place",
            "name": "",
            "display_name": "1200, North Halsted Street, Goose Island, Near North Side, "
            "Chicago, Cook County, Illinois, 60642, United States",
            "boundingbox": ["41.9034973", "41.9035973", "-87.6485039", "-87.6484039"],
        }
    ],
    # What a hostile or broken server could send: the page must show it as text.
    "evil": [{"lat": "41.9", "lon": "-87.65", "display_name": "<script>alert(1)</script> Evil St"}],
}


class FakeNominatim:
    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict] = []
        self.release = threading.Event()
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeNominatim:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet test output
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # "slow": the client gave up waiting, as the test meant it to

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                fake.requests.append(
                    {"path": parts.path, "query": query, "headers": dict(self.headers)}
                )
                if fake.mode == "slow":
                    fake.release.wait(10)
                if fake.mode == "error":
                    return self._send(500, b"Internal Server Error", "text/plain")
                if fake.mode == "garbage":
                    return self._send(200, b"<html><body>Gateway</body></html>", "text/html")
                if fake.mode == "wrong":
                    return self._send(200, b'{"error": "Unable to geocode"}', "application/json")
                if parts.path != "/search" or query.get("format") != "jsonv2":
                    return self._send(400, b'{"error": "bad request"}', "application/json")
                text = query.get("q", "").lower()
                found = [p for word, places in PLACES.items() if word in text for p in places]
                body = json.dumps(found[: int(query.get("limit", 10))]).encode()
                return self._send(200, body, "application/json; charset=utf-8")

        return Handler
