"""The app under uvicorn in a thread of the test process: pytest-django's live_server is a WSGI
server, where the board's stream (an async view) answers 204 and the board polls. Same process,
so the test database, the fixed clock and the settings fixtures hold, as with live_server; the
static files are served as live_server serves them."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application


@dataclass
class AsgiServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        from dispatch import live

        self.server.should_exit = True
        self.thread.join(timeout=10)
        live.close_all()  # its LISTEN connection, so the test database can be dropped


def start() -> AsgiServer:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        ASGIStaticFilesHandler(get_asgi_application()),
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return AsgiServer(f"http://127.0.0.1:{port}", server, thread)
