"""Test helpers: a fake Hugging Face cache and a loopback HTTP server that speaks the Hub endpoints huggingface_hub's
downloader uses: ``/api/models/{repo}`` (model info with files), ``/api/models/{repo}/tree/{rev}`` (the file
list), ``HEAD /{repo}/resolve/{rev}/{path}`` (commit, etag, size) and ``GET`` of the same with ranges."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REVISION = "0123456789abcdef0123456789abcdef01234567"


def add_to_cache(cache: Path, repo: str, folder: Path, revision: str = REVISION) -> Path:
    """Put ``folder`` into the fake cache as ``repo`` (plain files, as huggingface_hub writes without symlinks)."""
    repo_dir = cache / ("models--" + repo.replace("/", "--"))
    snapshot = repo_dir / "snapshots" / revision
    shutil.copytree(folder, snapshot, dirs_exist_ok=True)
    (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs" / "main").write_text(revision)
    (repo_dir / "blobs").mkdir(exist_ok=True)
    return snapshot


class FakeHub:
    """Serves repositories (repo id → {path: bytes}) on 127.0.0.1; can throttle, drop once, or fail with 500."""

    def __init__(self):
        self.repos: dict[str, dict[str, bytes]] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header) of every GET
        self.heads: list[str] = []  # paths asked about with HEAD
        self.fail_with: int | None = None
        self.drop_after: int | None = None  # bytes of one file response before the connection is cut (once)
        self.throttle_s = 0.0  # pause per 64 KiB chunk
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):  # http.server's naming
                hub.heads.append(self.path)
                if hub.fail_with:
                    self.send_error(hub.fail_with)
                    return
                parts = self.path.split("?")[0].lstrip("/").split("/")
                data = hub.repos.get("/".join(parts[:2]), {}).get("/".join(parts[4:])) \
                    if len(parts) >= 5 and parts[2] == "resolve" else None
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("X-Repo-Commit", REVISION)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()

            def do_GET(self):  # http.server's naming
                hub.requests.append((self.path, self.headers.get("Range")))
                if hub.fail_with:
                    self.send_error(hub.fail_with)
                    return
                if self.path.startswith("/api/models/"):
                    route = self.path[len("/api/models/"):].split("?")[0].split("/")
                    if len(route) >= 4 and route[2] == "tree":
                        return self._tree("/".join(route[:2]))
                    return self._info("/".join(route[:2]))
                parts = self.path.lstrip("/").split("/")
                if len(parts) >= 5 and parts[2] == "resolve":
                    return self._file("/".join(parts[:2]), "/".join(parts[4:]))
                self.send_error(404)

            def _info(self, repo):
                """Model info with every file (``?blobs=true``), as ``HfApi.model_info`` reads it."""
                def entry(path, data, lfs):
                    return {"rfilename": path, "size": len(data), **({"lfs": {**lfs, "sha256": lfs["oid"]}}
                                                                      if lfs else {})}
                self._listing(repo, lambda entries: {"id": repo, "sha": REVISION, "siblings": entries}, entry)

            def _tree(self, repo):
                """The recursive file list, as ``HfApi.list_repo_tree`` reads it."""
                def entry(path, data, lfs):
                    return {"type": "file", "path": path, "size": len(data), "oid": hashlib.sha1(data).hexdigest(),
                            **({"lfs": lfs} if lfs else {})}
                self._listing(repo, lambda entries: entries, entry)

            def _listing(self, repo, wrap, entry):
                files = hub.repos.get(repo)
                if files is None:
                    self.send_error(404)
                    return
                entries = []
                for path, data in files.items():
                    lfs = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134} \
                        if path.endswith((".safetensors", ".bin")) else None
                    entries.append(entry(path, data, lfs))
                body = json.dumps(wrap(entries)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _file(self, repo, path):
                data = hub.repos.get(repo, {}).get(path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                ranged = self.headers.get("Range")
                if ranged and ranged.startswith("bytes="):
                    start = int(ranged[6:].split("-")[0])
                body = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                limit = hub.drop_after
                sent = 0
                for i in range(0, len(body), 65536):
                    piece = body[i:i + 65536]
                    if limit is not None and sent + len(piece) > limit:
                        hub.drop_after = None
                        self.wfile.write(piece[: max(limit - sent, 0)])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    try:
                        self.wfile.write(piece)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    sent += len(piece)
                    if hub.throttle_s:
                        time.sleep(hub.throttle_s)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def add_folder(self, repo: str, folder: Path, extra: dict[str, bytes] | None = None) -> None:
        """Serve every file of ``folder`` (plus ``extra``) as ``repo``."""
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        self.repos[repo] = {**files, **(extra or {})}

    def file_requests(self) -> list[tuple[str, str | None]]:
        """The file downloads (GET of resolve) made so far."""
        return [r for r in self.requests if "/resolve/" in r[0]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
