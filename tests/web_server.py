"""A local web server on 127.0.0.1 for the URL-drop tests: pictures, a page, a slow answer, a missing file."""

from __future__ import annotations

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def png_bytes(size=(80, 48), color=(30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


class WebServer:
    """Serves ``routes`` ({path: (status, content type, body)}); "/slow.png" waits before it answers."""

    def __init__(self):
        self.routes = {
            "/pictures/landscape.png": (200, "image/png", png_bytes()),
            "/big.png": (200, "image/png", png_bytes((600, 600)) + bytes(200_000)),
            "/page.html": (200, "text/html; charset=utf-8", b"<html>not a picture</html>"),
        }
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # http.server's name
                if self.path == "/slow.png":
                    time.sleep(2.0)
                status, kind, body = routes.get(self.path, (404, "text/plain", b"missing"))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
