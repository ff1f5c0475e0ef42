"""Restyle every image of a folder with the same settings, resumably. No Qt.

A manifest, ``OUT_DIR/restyle-batch.json``, records each finished input (its size and modification time, the
output's name and the settings it was made with). It is replaced atomically after every file, so an interrupted
batch loses at most the file in progress, and running the same command again skips what is done.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ErrorKind, RestyleError, bad_input
from .files import atomic_write
from .images import SUPPORTED_SUFFIXES, load_image
from .params import GenerationParams, random_seed
from .schemas import Damaged, check_manifest, keep_aside, read_json_file

log = logging.getLogger(__name__)

MANIFEST_NAME = "restyle-batch.json"
MANIFEST_VERSION = 1


@dataclass
class BatchReport:
    """What a batch did, file by file (names relative to the input folder)."""

    done: list[str] = field(default_factory=list)  # restyled in this run
    skipped_done: list[str] = field(default_factory=list)  # finished by an earlier run with the same settings
    not_images: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, sentence)
    devices: dict[str, str] = field(default_factory=dict)  # name -> the device that made it (several devices)

    def summary(self) -> str:
        """One line for the user."""
        parts = [f"{len(self.done)} restyled"]
        if self.skipped_done:
            parts.append(f"{len(self.skipped_done)} already done")
        if self.not_images:
            parts.append(f"{len(self.not_images)} not images")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return "Batch finished: " + ", ".join(parts) + "."


def is_image_name(path: Path) -> bool:
    """True for a file whose suffix Restyle opens as an image."""
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def is_mask_name(path: Path) -> bool:
    """True for NAME.mask.png (any image suffix): the mask of NAME's picture, not a picture to restyle."""
    return is_image_name(path) and path.stem.lower().endswith(".mask")


def mask_beside(path: Path) -> Path | None:
    """The NAME.mask.* file beside the picture NAME.*, or None."""
    for entry in sorted(path.parent.glob(f"{path.stem}.mask.*")):
        if is_mask_name(entry) and entry.stem[: -len(".mask")] == path.stem:
            return entry
    return None


def list_folder(folder: Path) -> tuple[list[Path], list[Path]]:
    """(image files, other files) directly in ``folder``, sorted by name; hidden files, folders and the pictures'
    masks (NAME.mask.png) are left out."""
    images, others = [], []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or not entry.is_file() or is_mask_name(entry):
            continue
        (images if is_image_name(entry) else others).append(entry)
    return images, others


def settings_key(params: GenerationParams) -> str:
    """A short hash of everything that decides the pictures except the input file (and a random seed)."""
    data = params.to_dict()
    data.pop("init_image", None)
    if data.get("seed") is None:
        data.pop("seed", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def preferred_names(images: list[Path]) -> dict[str, str]:
    """Input name -> the output PNG name it would like: the stem, or stem_ext when two inputs share a stem."""
    stems: dict[str, int] = {}
    for path in images:
        stems[path.stem.lower()] = stems.get(path.stem.lower(), 0) + 1
    return {p.name: (f"{p.stem}.png" if stems[p.stem.lower()] == 1 else f"{p.stem}_{p.suffix[1:]}.png")
            for p in images}


def output_names(images: list[Path], out_dir: Path, manifest: Manifest, *, overwrite: bool = False) -> dict[str, str]:
    """Input name -> output name, one to one, stable across runs, and never an existing file unless ``overwrite``.

    An input the manifest already names keeps its output. Another input takes its preferred name, or that name
    with -2, -3… when it is another input's output (``a.png`` and ``a_png.png`` both prefer ``a_png.png``) or,
    without ``overwrite``, a file already in ``out_dir`` (case-insensitively, as macOS and Windows compare).
    """
    preferred = preferred_names(images)
    present = {p.name.lower() for p in out_dir.iterdir()} if out_dir.is_dir() else set()
    names: dict[str, str] = {}
    taken: set[str] = set()
    for path in images:  # outputs recorded earlier stay with their inputs
        recorded = str((manifest.files.get(path.name) or {}).get("output", ""))
        if recorded and recorded.lower() not in taken and recorded.endswith(".png") and "/" not in recorded \
                and "\\" not in recorded:
            names[path.name] = recorded
            taken.add(recorded.lower())
    others = {str(e.get("output", "")).lower() for k, e in manifest.files.items() if k not in preferred}
    for path in images:
        if path.name in names:
            continue
        stem = preferred[path.name][:-4]
        candidate, n = f"{stem}.png", 2
        while candidate.lower() in taken or candidate.lower() in others or \
                (not overwrite and candidate.lower() in present):
            candidate, n = f"{stem}-{n}.png", n + 1
        names[path.name] = candidate
        taken.add(candidate.lower())
    return names


class Manifest:
    """The record of finished files in the output folder, saved atomically after each one."""

    def __init__(self, path: Path):
        self.path = path
        self.files: dict[str, dict] = {}
        self.notice: str | None = None  # what was wrong with the saved record
        try:
            self.files = check_manifest(read_json_file(path, "the batch record"))
        except FileNotFoundError:
            pass
        except Damaged as exc:
            aside = keep_aside(path)
            where = f"it was kept as {aside.name}" if aside else "it could not be moved aside"
            self.notice = (f"{path.name} was damaged ({exc}); {where}, and the batch starts afresh (no existing "
                           "file is replaced).")
            log.warning("%s", self.notice)

    def is_done(self, source: Path, key: str, out_dir: Path, output: str) -> bool:
        """True when ``source`` was finished as ``output`` with these settings, is unchanged and its output is
        still there."""
        entry = self.files.get(source.name)
        if not entry or entry.get("output") != output:
            return False
        stat = source.stat()
        return (entry.get("settings") == key and entry.get("size") == stat.st_size
                and entry.get("mtime_ns") == stat.st_mtime_ns and (out_dir / output).is_file())

    def reserve(self, source: Path, output: str) -> None:
        """Note the output ``source`` is about to be written to, before it is: a kill between the picture and
        ``record`` leaves a file the next run knows is its own to finish, not someone else's to keep."""
        self.files[source.name] = {"output": output}
        self._save()

    def is_unfinished(self, source: Path, output: str) -> bool:
        """True when ``output`` was reserved for ``source`` and never recorded as finished."""
        entry = self.files.get(source.name) or {}
        return entry.get("output") == output and "settings" not in entry

    def record(self, source: Path, output: Path, key: str, seed: int) -> None:
        """Note a finished file and save the manifest (temp file, fsync, rename)."""
        stat = source.stat()
        self.files[source.name] = {"output": output.name, "settings": key, "size": stat.st_size,
                                   "mtime_ns": stat.st_mtime_ns, "seed": seed}
        self._save()

    def _save(self) -> None:
        data = json.dumps({"version": MANIFEST_VERSION, "files": self.files}, indent=1, ensure_ascii=False)
        atomic_write(self.path, data)


def _free_name(out_dir: Path, name: str, taken: set[str]) -> str:
    """``name`` with the next -N that is neither a file in ``out_dir`` nor another input's output."""
    stem, n = name[:-4], 2
    lowered = {t.lower() for t in taken}
    while (out_dir / f"{stem}-{n}.png").exists() or f"{stem}-{n}.png".lower() in lowered:
        n += 1
    return f"{stem}-{n}.png"


@dataclass(frozen=True)
class BatchFile:
    """One picture still to do: its parameters (its own mask, if it has one) and its settings key."""

    path: Path
    params: GenerationParams  # init_image and seed are set when it runs (see ``run_params``)
    key: str  # settings_key for the manifest
    number: int  # its place in the folder, from 1
    mask_name: str = ""  # NAME.mask.png beside it, when it has one

    def run_params(self) -> GenerationParams:
        """The parameters of its run: its picture, and the batch's seed (or a random one for each file)."""
        seed = self.params.seed if self.params.seed is not None else random_seed()
        return self.params.replace(init_image=str(self.path), seed=seed)


@dataclass
class BatchPlan:
    """A checked batch: its folders, every image, those still to do, and the manifest recording each one done."""

    in_dir: Path
    out_dir: Path
    images: list[Path]
    todo: list[BatchFile]
    manifest: Manifest
    names: dict[str, str]  # input name -> output PNG name
    preferred: dict[str, str]  # input name -> the name it would have if nothing were in the way
    report: BatchReport
    overwrite: bool = False
    say: Callable[[str], None] = lambda message: None

    def record(self, item: BatchFile, result) -> Path:
        """Save the result as the file's PNG (never over a file that is not ours, unless overwriting), note it
        in the manifest and the report; returns the PNG's path."""
        from .output import save_result

        path, names, out_dir = item.path, self.names, self.out_dir
        # Our own earlier output for this input (made with other settings) is replaced only when asked; one a
        # killed run left unrecorded is finished.
        ours = self.manifest.is_unfinished(path, names[path.name])
        if (out_dir / names[path.name]).exists() and not (self.overwrite or ours):
            names[path.name] = _free_name(out_dir, names[path.name], set(names.values()))
        if names[path.name] != self.preferred[path.name]:
            self.say(f"{path.name}: {self.preferred[path.name]} is taken, so the result is {names[path.name]}.")
        self.manifest.reserve(path, names[path.name])
        target = save_result(result, out_dir, out_dir / names[path.name], overwrite=self.overwrite or ours)
        self.manifest.record(path, target, item.key, result.seed)
        self.report.done.append(path.name)
        return target


def prepare_batch(in_dir: str | Path, out_dir: str | Path, params: GenerationParams,
                  say: Callable[[str], None], *, overwrite: bool = False) -> BatchPlan:
    """Check the folders and settings, make the output folder, and list what is left to do (files finished by
    an earlier run with the same settings are reported as skipped). Raises RestyleError with a sentence."""
    in_dir, out_dir = Path(in_dir).expanduser(), Path(out_dir).expanduser()
    if not in_dir.is_dir():
        raise bad_input(f"{in_dir} is not a folder: give the folder holding the images to restyle.")
    if in_dir.resolve() == out_dir.resolve():
        raise bad_input("The output folder must differ from the input folder, or the results would be restyled again.")
    params.replace(init_image=str(in_dir)).validate()
    if params.mask_image:
        from .masks import load_mask

        load_mask(params.mask_image)  # one unreadable mask for all fails the batch at once, not file by file
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise bad_input(f"The output folder {out_dir} cannot be made: {exc.strerror or exc}.") from None
    for leftover in out_dir.glob(".*.tmp"):  # half-written files of a batch that was killed
        leftover.unlink(missing_ok=True)
    images, others = list_folder(in_dir)
    shared_mask = Path(params.mask_image).expanduser().resolve() if params.mask_image else None
    images = [p for p in images if p.resolve() != shared_mask]  # the one mask for all is not restyled itself
    report = BatchReport(not_images=[p.name for p in others])
    for path in others:
        say(f"{path.name} is not an image; skipped.")
    if not images:
        say(f"{in_dir} holds no images ({', '.join(SUPPORTED_SUFFIXES)}).")
    manifest = Manifest(out_dir / MANIFEST_NAME)
    if manifest.notice:
        say(manifest.notice)
    names = output_names(images, out_dir, manifest, overwrite=overwrite)
    todo = []
    for index, path in enumerate(images, 1):
        own_mask = mask_beside(path)
        file_params = params
        if own_mask is not None:  # NAME.mask.png beside the picture wins over the one for all
            stat = own_mask.stat()
            file_params = params.replace(mask_image=str(own_mask))
            # Its size and time in the key: a repainted mask makes the file due again.
            key = settings_key(params.replace(mask_image=f"{own_mask.name}:{stat.st_size}:{stat.st_mtime_ns}"))
        else:
            key = settings_key(params)
        if manifest.is_done(path, key, out_dir, names[path.name]):
            report.skipped_done.append(path.name)
            say(f"[{index}/{len(images)}] {path.name}: already done; skipped.")
        else:
            todo.append(BatchFile(path, file_params, key, index, own_mask.name if own_mask else ""))
    return BatchPlan(in_dir, out_dir, images, todo, manifest, names, preferred_names(images), report,
                     overwrite=overwrite, say=say)


def run_batch(engine, in_dir: str | Path, out_dir: str | Path, params: GenerationParams, *,
              status: Callable[[str], None] | None = None,
              on_file_done: Callable[[Path, Path], None] | None = None, overwrite: bool = False) -> BatchReport:
    """Restyle each image in ``in_dir`` into ``out_dir`` as PNG with ``params`` (init_image is set per file).

    Raises RestyleError for a missing folder or a model that cannot load; a file that cannot be read is
    reported in the BatchReport and the rest go on.
    """
    say = status or (lambda message: None)
    plan = prepare_batch(in_dir, out_dir, params, say, overwrite=overwrite)
    for item in plan.todo:
        try:
            load_image(item.path)  # a broken file is reported before the model is asked to run
            mask = f" (mask {item.mask_name})" if item.mask_name else ""
            say(f"[{item.number}/{len(plan.images)}] {item.path.name}{mask}…")
            result = engine.generate(item.run_params())
        except RestyleError as exc:
            if exc.kind is not ErrorKind.BAD_INPUT:
                raise  # a model that cannot load or a device out of memory fails every file alike
            plan.report.failed.append((item.path.name, exc.message))
            say(f"{item.path.name}: {exc.message} Skipped.")
            continue
        target = plan.record(item, result)
        if on_file_done is not None:
            on_file_done(item.path, target)
    return plan.report
