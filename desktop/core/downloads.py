"""Downloading a model from the Hugging Face Hub: only the files the app needs, with byte progress, rate and cancel.

The transfer is huggingface_hub's own (``snapshot_download`` with ``allow_patterns``): its cache layout (blobs,
snapshots, refs), its locks, its retries with ``Range`` when a connection drops. Restyle adds what the app needs
around it:
- the choice of files (``select_files``): model_index.json, configs, tokenizer and scheduler files, and per
  component one set of ``.safetensors`` weights, the fp16 variant when running in fp16 and the repository has it.
  Single-file checkpoint copies, ONNX/Flax/OpenVINO exports, EMA duplicates and pickles (.bin/.ckpt) are skipped;
  a repository whose weights exist only as pickles is refused unless pickles are allowed;
- a check of every Hub file name before anything is written (no "/x.json", no "../x.json"), and afterwards of
  each file's size and SHA-256;
- byte progress with a rate for the whole model and a cancel, through a ``tqdm_class`` that counts the bytes and
  raises when the user cancels (huggingface_hub reads in 1 MiB chunks here, so a cancel takes effect at once);
- one sentence per failure (offline, unreachable, a server error, a gated or missing repository, a full disk);
- a ``restyle-download.json`` marker listing the files it added, the only ones the library ever deletes. It says
  ``"complete": false`` until every file is there, so half a model never shows as installed.

huggingface_hub 2.x keeps no partial files between calls: after a cancel the files that finished stay in the cache
and the next download fetches only the rest; the file that was being fetched starts again.
"""


from __future__ import annotations

import errno
import glob
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ErrorKind, RestyleError, bad_input, model_missing
from .files import atomic_write
from .hubcache import hub_cache_dir, is_offline, repo_folder
from .library import MARKER, read_marker
from .schemas import Damaged, inside, is_safe_relative

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK = 1 << 20  # huggingface_hub's read size while downloading: progress and cancel come once per chunk
TIMEOUT_S = 20.0
WORKERS = 4  # files fetched at once
# The largest LoRAs (SDXL, high rank) stay under 2 GB; a root .safetensors above it is a whole checkpoint.
LORA_MAX_BYTES = 2 * 1024**3
SKIPPED_DIRS = {"onnx", "flax", "openvino", "coreml", "tf", "jax", "images", "assets", "samples"}
_WEIGHT = re.compile(r"^(?P<stem>[^./]+?)(?:\.(?P<variant>[\w]+))?(?:-\d{5}-of-\d{5})?\.(?P<ext>safetensors|bin)$")
_INDEX = re.compile(r"^(?P<stem>[^./]+?)\.(?P<ext>safetensors|bin)\.index(?:\.(?P<variant>\w+))?\.json$")


class DownloadCancelled(RestyleError):
    """The user cancelled; the files that finished are kept, so the next download fetches only the rest."""

    def __init__(self, repo: str):
        super().__init__(ErrorKind.CANCELLED, f"Download of {repo} cancelled; the files that finished are kept and "
                                              "the next download fetches only the rest.")


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

    def figures(self) -> str:
        """"12.3 MB of 2.1 GB, 15.2 MB/s": what a progress bar or a status line shows."""
        rate = f", {human_size(self.rate)}/s" if self.rate > 0 else ""
        return f"{human_size(self.done)} of {human_size(self.total)}{rate}"


def human_size(n: float) -> str:
    """Bytes as a short figure: 512 KB, 1.4 GB."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


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
        elif name.endswith((".json", ".txt", ".model")) and name != "README.txt":
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
def _http_error(code: int, repo: str) -> RestyleError:
    if code in (401, 403):
        return model_missing(f"{repo} needs a Hugging Face login: accept its licence on its model page and set a "
                             "token (HF_TOKEN or `hf auth login`), then download it again.")
    if code == 404:
        return model_missing(f"There is no model {repo} on the Hugging Face Hub (or it is private). Check the id.")
    return model_missing(f"The Hugging Face Hub answered with an error (HTTP {code}) for {repo}. Try again later: "
                         "the files that finished are kept.")


def _offline_error(repo: str) -> RestyleError:
    return model_missing(f"Restyle is offline (HF_HUB_OFFLINE is set), so it cannot download {repo}. Unset it "
                         "and try again, or add a local folder or checkpoint file instead.")


def _hub_error(exc: BaseException, repo: str) -> RestyleError:
    """One sentence for whatever huggingface_hub or the network raised."""
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError

    if isinstance(exc, RestyleError):
        return exc
    if isinstance(exc, OfflineModeIsEnabled):
        return _offline_error(repo)
    if isinstance(exc, GatedRepoError):
        return _http_error(401, repo)
    if isinstance(exc, RepositoryNotFoundError):
        return _http_error(404, repo)
    if isinstance(exc, HfHubHTTPError) and getattr(exc, "response", None) is not None:
        return _http_error(exc.response.status_code, repo)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return bad_input(f"The disk is full while downloading {repo}; free some space and download again (the files "
                         "that finished are kept).")
    if not isinstance(exc, OSError) and not type(exc).__module__.startswith("httpx"):
        return model_missing(f"The Hub's answer about {repo} could not be read ({type(exc).__name__}); try again "
                             "later.")
    if "Timeout" in type(exc).__name__:
        what = f"{endpoint()} stopped answering"
    else:
        what = f"Restyle cannot reach {endpoint()} ({type(exc).__name__}: {exc})"
    return model_missing(f"{what}, so {repo} cannot be downloaded now. Check the internet connection; the files that "
                         "finished are kept and the next download fetches only the rest.")


def fetch_plan(repo: str, *, fp16: bool, allow_pickles: bool = False, configs_only: bool = False,
               only: str = "") -> DownloadPlan:
    """Ask the Hub for the repository's files and choose the ones to fetch."""
    if is_offline():
        raise _offline_error(repo)
    from huggingface_hub import HfApi

    try:
        info = HfApi(endpoint=endpoint()).model_info(repo, files_metadata=True, timeout=TIMEOUT_S)
    except Exception as exc:  # every failure becomes one sentence
        log.info("asking the Hub about %s failed: %r", repo, exc)
        raise _hub_error(exc, repo) from exc
    files = [RemoteFile(str(s.rfilename), int(s.size or (s.lfs.size if s.lfs else 0) or 0),
                        s.lfs.sha256 if s.lfs else None) for s in (info.siblings or [])]
    revision = str(info.sha or "")
    if not re.fullmatch(r"[0-9a-f]{40}", revision):
        raise model_missing(f"The Hub did not say which version of {repo} to download; try again later.")
    if only:  # one file of the repository (a GGUF transformer): no configuration to check
        if not is_safe_relative(only):
            raise bad_input(f"{only!r} is not a file inside {repo}.")
        chosen = [f for f in files if f.path == only]
        if not chosen:
            raise model_missing(f"{repo} has no file {only} (any more); look on its Hub page for the file to use.")
        return DownloadPlan(repo, revision, tuple(chosen))
    chosen = select_files(files, fp16=fp16, allow_pickles=allow_pickles, configs_only=configs_only, repo=repo)
    if not any(f.path in ("model_index.json", "config.json") for f in chosen):
        loras = lora_files(files)
        if loras and not configs_only:  # a LoRA repository: its adapters, which the library then lists as LoRAs
            return DownloadPlan(repo, revision, tuple(loras))
        raise bad_input(f"{repo} is neither a diffusers or transformers model (it has no model_index.json or "
                        "config.json) nor a LoRA. For a single checkpoint file, download it and use Add checkpoint "
                        "file….")
    return DownloadPlan(repo, revision, tuple(chosen))


def lora_files(files: list[RemoteFile]) -> list[RemoteFile]:
    """The adapters of a repository that holds LoRAs: .safetensors at its root, none of them checkpoint-sized."""
    roots = [f for f in files if "/" not in f.path and f.path.endswith(".safetensors")]
    return roots if roots and all(f.size < LORA_MAX_BYTES for f in roots) else []


# ---- the download ----------------------------------------------------------------------------------------------
class _Meter:
    """Byte counter with a rate over the last few seconds, reporting at most every 0.1 s (any thread)."""

    def __init__(self, total: int, report: Callable[[Progress], None]):
        self.total, self.done, self.report = total, 0, report
        self._marks: list[tuple[float, int]] = [(time.monotonic(), 0)]
        self._last_report = 0.0
        self._lock = threading.Lock()

    def set(self, done: int, current: str = "", force: bool = False) -> None:
        with self._lock:
            self.done = done
            now = time.monotonic()
            if not force and now - self._last_report < 0.1:
                return
            self._last_report = now
            self._marks.append((now, done))
            self._marks = [m for m in self._marks if now - m[0] <= 3.0] or self._marks[-1:]
            start_t, start_b = self._marks[0]
            rate = (done - start_b) / (now - start_t) if now > start_t else 0.0
        self.report(Progress(done, self.total, rate, current))


def _progress_class(meter: _Meter, cancelled: Callable[[], bool], repo: str):
    """A tqdm class for ``snapshot_download``: silent, counts the bytes its byte bars see, raises on cancel."""
    from tqdm.auto import tqdm

    lock = threading.Lock()
    counted: dict[int, int] = {}  # byte bar -> bytes; huggingface_hub keeps a transfer and a written bar alike

    class ByteCounter(tqdm):
        def __init__(self, *args, **kwargs):
            self._bytes = kwargs.get("unit") == "B"
            kwargs.pop("name", None)
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            if cancelled():
                raise DownloadCancelled(repo)
            if self._bytes and n:
                with lock:
                    counted[id(self)] = counted.get(id(self), 0) + int(n)
                    done = max(counted.values())
                meter.set(done)
            return super().update(n)

    return ByteCounter


def download(repo: str, *, fp16: bool = False, allow_pickles: bool = False, configs_only: bool = False,
             on_progress: Callable[[Progress], None] | None = None, cancelled: Callable[[], bool] = lambda: False,
             cache_dir: Path | None = None, only: str = "") -> Path:
    """Download ``repo`` into the Hugging Face cache and return its snapshot folder; raises RestyleError."""
    from huggingface_hub import constants, snapshot_download

    plan = fetch_plan(repo, fp16=fp16, allow_pickles=allow_pickles, configs_only=configs_only, only=only)
    cache = Path(cache_dir or hub_cache_dir())
    folder = repo_folder(repo, cache)
    snapshot = folder / "snapshots" / plan.revision
    # Files already in the snapshot (from diffusers or another tool) are not fetched again, nor ever ours to delete.
    todo = [f for f in plan.files if not (snapshot / f.path).is_file()]
    meter = _Meter(sum(f.size for f in todo), on_progress or (lambda p: None))
    previous = read_marker(folder)
    ours = {f.path for f in todo} | set(previous["files"] if previous and previous["revision"] == plan.revision else [])
    if todo:
        _write_marker(folder, repo, plan.revision, ours, fp16=fp16, configs_only=configs_only, complete=False)
        constants.DOWNLOAD_CHUNK_SIZE = min(constants.DOWNLOAD_CHUNK_SIZE, CHUNK)  # a cancel within 1 MiB
        try:
            snapshot_download(repo, revision=plan.revision, cache_dir=str(cache), endpoint=endpoint(),
                              allow_patterns=[glob.escape(f.path) for f in todo], max_workers=WORKERS,
                              tqdm_class=_progress_class(meter, cancelled, repo), etag_timeout=TIMEOUT_S)
        except Exception as exc:  # every failure becomes one sentence
            if not isinstance(exc, RestyleError):
                log.info("downloading %s failed: %r", repo, exc)
            raise _hub_error(exc, repo) from exc
    for f in todo:
        _check_arrived(folder, snapshot, f, repo)
    meter.set(meter.total, force=True)
    try:
        (folder / "refs").mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "refs" / "main", plan.revision)  # so the engine finds it by its id, offline
        if ours or previous:
            _write_marker(folder, repo, plan.revision, ours, fp16=fp16, configs_only=configs_only, complete=True)
    except OSError as exc:
        raise _hub_error(exc, repo) from exc
    log.info("downloaded %s@%s: %d files, %d bytes", repo, plan.revision[:8], len(todo), meter.total)
    return snapshot


def _check_arrived(folder: Path, snapshot: Path, f: RemoteFile, repo: str) -> None:
    """The file is inside the snapshot with its size and SHA-256; a damaged one is deleted and named."""
    # huggingface_hub links snapshot files to blobs/: the file must be in the snapshot or be a link to a blob of
    # this repository, never anywhere else.
    target = (snapshot / f.path).resolve()
    try:
        inside(snapshot, f.path.rsplit("/", 1)[0]) if "/" in f.path else None
        if target.parent != (folder / "blobs").resolve():
            inside(snapshot, f.path)
    except Damaged:
        raise model_missing(f"{f.path} of {repo} did not arrive inside the model's folder; "
                            "download it again.") from None
    if not target.is_file():
        raise model_missing(f"{f.path} of {repo} did not arrive; download it again.")
    if target.stat().st_size != f.size or (f.sha256 and _sha256(target) != f.sha256):
        link = snapshot / f.path
        link.unlink(missing_ok=True)
        if target.parent == (folder / "blobs").resolve():
            target.unlink(missing_ok=True)
        raise model_missing(f"{f.path} of {repo} arrived damaged (size or checksum mismatch) and was deleted; "
                            "download it again.")


def _write_marker(folder: Path, repo: str, revision: str, files: set[str], *, fp16: bool, configs_only: bool,
                  complete: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / MARKER, json.dumps({"repo": repo, "revision": revision, "files": sorted(files),
                                              "fp16": fp16, "configs_only": configs_only, "complete": complete},
                                             indent=1))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
