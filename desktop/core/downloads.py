"""Downloading a model from the Hugging Face Hub: only the files the app needs, with progress, cancel and resume.

Why a small HTTP client of our own instead of ``hf_hub_download``: the app needs byte progress with a rate for
the whole model, a cancel that takes effect within one chunk, resume of partly downloaded files after a cancel
or a dropped connection, and one sentence per failure. It uses two Hub endpoints ($HF_ENDPOINT, default
https://huggingface.co):
- ``GET /api/models/{repo}?blobs=true``: the commit and every file with its size (and SHA-256 for LFS files);
- ``GET /{repo}/resolve/{commit}/{path}`` with ``Range: bytes=N-`` to continue a partial file.

Where files go: the Hugging Face cache's own layout (``models--owner--name/snapshots/{commit}/…`` and
``refs/main``), as plain files, like huggingface_hub writes them where symlinks are unavailable. So diffusers'
``from_pretrained``, ``scan_cache_dir`` and other tools find them, and nothing is stored twice. Partial files
wait in ``models--owner--name/.restyle-partial/{commit}/`` and move into the snapshot only once every file is
complete and checked, so a half-downloaded model never looks installed. A ``restyle-download.json`` marker lists
the files written, which are the only ones the library ever deletes.

What is fetched: model_index.json, configs, tokenizer and scheduler files, and per component one set of
``.safetensors`` weights, the fp16 variant when running in fp16 and the repository has it. Single-file
checkpoint copies, ONNX/Flax/OpenVINO exports, EMA duplicates and pickles (.bin/.ckpt) are skipped; a
repository whose weights exist only as pickles is refused unless pickles are allowed.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ErrorKind, RestyleError, bad_input, model_missing
from .hubcache import hub_cache_dir, is_offline, repo_folder
from .library import MARKER
from .schemas import is_safe_relative

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK = 256 * 1024
TIMEOUT_S = 20.0
RETRIES = 3  # a dropped connection is resumed this many times before giving up
RETRY_PAUSE_S = 1.0
SKIPPED_DIRS = {"onnx", "flax", "openvino", "coreml", "tf", "jax", "images", "assets", "samples"}
_WEIGHT = re.compile(r"^(?P<stem>[^./]+?)(?:\.(?P<variant>[\w]+))?(?:-\d{5}-of-\d{5})?\.(?P<ext>safetensors|bin)$")
_INDEX = re.compile(r"^(?P<stem>[^./]+?)\.(?P<ext>safetensors|bin)\.index(?:\.(?P<variant>\w+))?\.json$")


class DownloadCancelled(RestyleError):
    """The user cancelled; the partial files are kept so the next download resumes."""

    def __init__(self, repo: str):
        super().__init__(ErrorKind.CANCELLED, f"Download of {repo} cancelled; what arrived is kept and the next "
                                              "download continues from there.")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repository."""

    path: str
    size: int
    sha256: str | None = None  # LFS files only


@dataclass(frozen=True)
class DownloadPlan:
    """What a download of ``repo`` will fetch."""

    repo: str
    revision: str
    files: tuple[RemoteFile, ...]

    @property
    def total_bytes(self) -> int:
        """The size of everything in the plan."""
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class Progress:
    """Bytes so far (resumed bytes included), the total, the rate over the last seconds, and the file now."""

    done: int
    total: int
    rate: float  # bytes per second
    current: str


def endpoint() -> str:
    """The Hub endpoint ($HF_ENDPOINT, else huggingface.co)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


# ---- choosing files -------------------------------------------------------------------------------------------
def select_files(files: list[RemoteFile], *, fp16: bool, allow_pickles: bool = False, configs_only: bool = False,
                 repo: str = "the model") -> list[RemoteFile]:
    """The files the app needs from a repository's file list (see the module docstring)."""
    unsafe = [f.path for f in files if not is_safe_relative(f.path)]
    if unsafe:  # a hostile or broken endpoint: "/x.json" or "../x.json" would be written outside the cache
        raise model_missing(f"The Hub's list of files for {repo} names {unsafe[0]!r}, which points outside the model's "
                            "folder, so nothing was downloaded. Check $HF_ENDPOINT.")
    paths = {f.path for f in files}
    pipeline = "model_index.json" in paths
    keep, weights_by_dir = [], {}
    for f in files:
        parts = f.path.split("/")
        if parts[0] in SKIPPED_DIRS or len(parts) > 2 or parts[-1].startswith("."):
            continue
        name = parts[-1]
        directory = "/".join(parts[:-1])
        if pipeline and not directory and (_WEIGHT.match(name) or name.endswith((".ckpt", ".safetensors"))):
            continue  # single-file copies at the root of a diffusers repository
        if _WEIGHT.match(name) or _INDEX.match(name):
            weights_by_dir.setdefault(directory, []).append(f)
        elif name.endswith((".json", ".txt", ".model")) and name not in ("README.txt",):
            keep.append(f)
    if configs_only:
        return keep
    pickle_only = []
    for directory, candidates in sorted(weights_by_dir.items()):
        chosen = _choose_weights(candidates, fp16=fp16, allow_pickles=allow_pickles)
        if not chosen and any(f.path.endswith(".bin") for f in candidates):
            pickle_only.append(directory or "the root folder")
        keep += chosen
    if pickle_only and not allow_pickles:
        raise bad_input(
            f"{repo} publishes its weights ({', '.join(pickle_only)}) only as pickle .bin files, which can run code "
            "when opened. Restyle does not download these unless \"Allow pickle checkpoints\" is on; then they are "
            "read as weights only. Or look for a .safetensors version of the model."
        )
    return keep


def _choose_weights(candidates: list[RemoteFile], *, fp16: bool, allow_pickles: bool) -> list[RemoteFile]:
    """One set of weights for one component: safetensors before pickles; fp16 variant if wanted, else plain."""
    for ext in ("safetensors", *(("bin",) if allow_pickles else ())):
        by_variant: dict[str | None, list[RemoteFile]] = {}
        for f in candidates:
            name = f.path.rsplit("/", 1)[-1]
            match = _WEIGHT.match(name) or _INDEX.match(name)
            if match and match["ext"] == ext:
                by_variant.setdefault(match["variant"], []).append(f)
        weights = {v: fs for v, fs in by_variant.items() if any(not _INDEX.match(f.path.rsplit("/", 1)[-1])
                                                                 for f in fs)}
        for variant in (("fp16", None) if fp16 else (None, "fp16")):
            if variant in weights:
                return by_variant[variant]
    return []


# ---- talking to the Hub ---------------------------------------------------------------------------------------
def _headers() -> dict[str, str]:
    headers = {"User-Agent": "Restyle"}
    token = os.environ.get("HF_TOKEN")
    if not token:
        try:
            from huggingface_hub import get_token

            token = get_token()
        except Exception:  # noqa: BLE001 - no token is fine for public models
            token = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _open_raw(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers={**_headers(), **(headers or {})})
    return urllib.request.urlopen(request, timeout=TIMEOUT_S)  # noqa: S310 - the Hub endpoint, http(s) only


def _open(url: str, repo: str, headers: dict | None = None):
    try:
        return _open_raw(url, headers)
    except urllib.error.HTTPError as exc:
        raise _http_error(exc.code, repo) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _connection_error(exc, repo) from exc


def _http_error(code: int, repo: str) -> RestyleError:
    if code in (401, 403):
        return model_missing(f"{repo} needs a Hugging Face login: accept its licence on its model page and set a "
                             "token (HF_TOKEN or `hf auth login`), then download it again.")
    if code == 404:
        return model_missing(f"There is no model {repo} on the Hugging Face Hub (or it is private). Check the id.")
    if code == 416:
        return model_missing(f"The Hub refused to continue a partial file of {repo}; download it again.")
    return model_missing(f"The Hugging Face Hub answered with an error (HTTP {code}) for {repo}. Try again later: "
                         "the download continues where it stopped.")


def _connection_error(exc: BaseException, repo: str) -> RestyleError:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (TimeoutError, socket.timeout)):
        what = f"{endpoint()} stopped answering"
    else:
        what = f"Restyle cannot reach {endpoint()} ({reason})"
    return model_missing(f"{what}, so {repo} cannot be downloaded now. Check the internet connection; what has "
                         "arrived is kept and the download continues from there next time.")


def fetch_plan(repo: str, *, fp16: bool, allow_pickles: bool = False, configs_only: bool = False,
               only: str = "") -> DownloadPlan:
    """Ask the Hub for the repository's files and choose the ones to fetch."""
    if is_offline():
        raise model_missing(f"Restyle is offline (HF_HUB_OFFLINE is set), so it cannot download {repo}. Unset it "
                            "and try again, or add a local folder or checkpoint file instead.")
    url = f"{endpoint()}/api/models/{urllib.parse.quote(repo)}?blobs=true"
    with _open(url, repo) as response:
        try:
            info = json.loads(response.read())
        except ValueError as exc:
            raise model_missing(f"The Hub's answer about {repo} could not be read; try again later.") from exc
    files = [RemoteFile(s["rfilename"], int(s.get("size") or (s.get("lfs") or {}).get("size") or 0),
                        (s.get("lfs") or {}).get("sha256")) for s in info.get("siblings", [])]
    revision = str(info.get("sha") or "")
    if not re.fullmatch(r"[0-9a-f]{40}", revision):
        raise model_missing(f"The Hub did not say which version of {repo} to download; try again later.")
    if only:  # one file of the repository (a GGUF transformer): no configuration to check
        chosen = [f for f in files if f.path == only]
        if not chosen:
            raise model_missing(f"{repo} has no file {only} (any more); look on its Hub page for the file to use.")
        return DownloadPlan(repo, revision, tuple(chosen))
    chosen = select_files(files, fp16=fp16, allow_pickles=allow_pickles, configs_only=configs_only, repo=repo)
    if not any(f.path in ("model_index.json", "config.json") for f in chosen):
        raise bad_input(f"{repo} is not a diffusers or transformers model (it has no model_index.json or "
                        "config.json). For a single checkpoint file, download it and use Add checkpoint file….")
    return DownloadPlan(repo, revision, tuple(chosen))


# ---- the download ----------------------------------------------------------------------------------------------
class _Meter:
    """Byte counter with a rate over the last few seconds, reporting at most every 0.1 s."""

    def __init__(self, total: int, report: Callable[[Progress], None]):
        self.total, self.done, self.report = total, 0, report
        self._marks: list[tuple[float, int]] = [(time.monotonic(), 0)]
        self._last_report = 0.0

    def add(self, n: int, current: str, force: bool = False) -> None:
        self.done += n
        now = time.monotonic()
        if not force and now - self._last_report < 0.1:
            return
        self._last_report = now
        self._marks.append((now, self.done))
        self._marks = [m for m in self._marks if now - m[0] <= 3.0] or self._marks[-1:]
        start_t, start_b = self._marks[0]
        rate = (self.done - start_b) / (now - start_t) if now > start_t else 0.0
        self.report(Progress(self.done, self.total, rate, current))


def download(repo: str, *, fp16: bool = False, allow_pickles: bool = False, configs_only: bool = False,
             on_progress: Callable[[Progress], None] | None = None, cancelled: Callable[[], bool] = lambda: False,
             cache_dir: Path | None = None, only: str = "") -> Path:
    """Download ``repo`` (or its one file ``only``) into the Hugging Face cache and return its snapshot folder;
    raises RestyleError."""
    plan = fetch_plan(repo, fp16=fp16, allow_pickles=allow_pickles, configs_only=configs_only, only=only)
    folder = repo_folder(repo, cache_dir or hub_cache_dir())
    snapshot = folder / "snapshots" / plan.revision
    staging = folder / ".restyle-partial" / plan.revision
    # Files already in the snapshot (from diffusers or another tool) are not fetched again, nor ever ours to delete.
    todo = [f for f in plan.files if not (snapshot / f.path).is_file()]
    meter = _Meter(sum(f.size for f in todo), on_progress or (lambda p: None))
    for f in todo:
        done = staging / f.path
        if done.is_file() and done.stat().st_size == f.size:
            meter.add(f.size, f.path)
            continue
        _fetch(plan, f, done, meter, cancelled)
    meter.add(0, "", force=True)
    previous = _read_marker(folder)
    written = [f.path for f in todo]
    for rel in written:
        target = snapshot / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, target)
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(plan.revision)
    ours = sorted(set(written) | set(previous.get("files", []) if previous.get("revision") == plan.revision else []))
    if ours or previous:
        (folder / MARKER).write_text(json.dumps({"repo": repo, "revision": plan.revision, "files": ours,
                                                 "fp16": fp16, "configs_only": configs_only}, indent=1))
    shutil.rmtree(folder / ".restyle-partial", ignore_errors=True)
    log.info("downloaded %s@%s: %d files, %d bytes", repo, plan.revision[:8], len(written), meter.total)
    return snapshot


def _read_marker(folder: Path) -> dict:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _fetch(plan: DownloadPlan, f: RemoteFile, target: Path, meter: _Meter, cancelled: Callable[[], bool]) -> None:
    """Fetch one file into ``target`` through ``target.part``, resuming it; retries dropped connections."""
    part = target.with_name(target.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    if have > f.size:
        part.unlink()
        have = 0
    meter.add(have, f.path)
    url = f"{endpoint()}/{urllib.parse.quote(plan.repo)}/resolve/{plan.revision}/{urllib.parse.quote(f.path)}"
    attempts = 0
    while have < f.size:
        if cancelled():
            raise DownloadCancelled(plan.repo)
        try:
            response = _open_raw(url, {"Range": f"bytes={have}-"} if have else None)
        except urllib.error.HTTPError as exc:
            raise _http_error(exc.code, plan.repo) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            attempts += 1
            if attempts > RETRIES:
                raise _connection_error(exc, plan.repo) from exc
            time.sleep(RETRY_PAUSE_S * attempts)
            continue
        with response:
            if have and response.status != 206:  # the server ignored the range: start this file again
                meter.add(-have, f.path)
                have = 0
            try:
                with open(part, "ab" if have else "wb") as out:
                    while True:
                        if cancelled():
                            raise DownloadCancelled(plan.repo)
                        chunk = response.read(CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        have += len(chunk)
                        meter.add(len(chunk), f.path)
            except (OSError, http.client.HTTPException) as exc:
                if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                    raise bad_input(f"The disk is full while downloading {plan.repo}; free some space and download "
                                    "again (it continues where it stopped).") from exc
                attempts += 1
                log.info("connection dropped while downloading %s (%s), attempt %d", f.path, exc, attempts)
                if attempts > RETRIES:
                    raise _connection_error(exc, plan.repo) from exc
                continue
        if have < f.size:  # the server closed the stream early without an error
            attempts += 1
            if attempts > RETRIES:
                raise _connection_error(ConnectionResetError("connection closed early"), plan.repo)
            continue
        break
    if not part.exists():
        part.write_bytes(b"")
    if part.stat().st_size != f.size:
        part.unlink()
        raise model_missing(f"{f.path} of {plan.repo} arrived with the wrong size; download it again.")
    if f.sha256 and _sha256(part) != f.sha256:
        part.unlink()
        raise model_missing(f"{f.path} of {plan.repo} arrived damaged (checksum mismatch) and was deleted; "
                            "download it again.")
    os.replace(part, target)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
