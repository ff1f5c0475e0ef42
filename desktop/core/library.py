"""The model library: the catalogue's models and the ones on disk, with what each is and whether it is here.

Installed models come from two places, and nothing is copied:
- the local Hugging Face cache (``huggingface_hub.scan_cache_dir``, at $HF_HUB_CACHE, else $HF_HOME/hub, else
  ~/.cache/huggingface/hub), which is where diffusers' own downloads and the library's downloads go;
- folders and files the user added (a diffusers folder, a folder of such folders, or single-file checkpoints).

A repository the library downloaded carries a ``restyle-download.json`` marker beside its snapshots, listing the
files it wrote; only those files are ever deleted (``remove_download``). Plain Python and huggingface_hub, no
torch: the dialog scans on a background thread without importing the heavy libraries.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from .catalogue import CATALOGUE, catalogue_entry
from .errors import bad_input
from .hubcache import hub_cache_dir, repo_folder
from .schemas import Damaged, check_marker, inside, read_json_file
from .sources import PICKLE_SUFFIXES

log = logging.getLogger(__name__)

MARKER = "restyle-download.json"


@dataclass(frozen=True)
class LibraryEntry:
    """One row of the library: a catalogue model, a cached Hub model, or a user folder or file."""

    name: str  # what the model picker takes: a Hub id, a folder or a file
    title: str
    role: str
    family: str
    size_bytes: int  # on disk when installed, else the approximate download
    licence: str
    installed: bool
    origin: str  # "catalogue" (not installed), "hub-cache", "folder" or "file"
    app_downloaded: bool = False
    location: str = ""  # the folder or file on disk ('' when not installed)
    note: str = ""
    file: str = ""  # a GGUF variant: the one file of the repository ``repo`` to download
    repo: str = ""  # the Hub id to download from ('' = ``name``)


def library_entries(user_paths: list[str] = (), hidden: list[str] = (), cache_dir: Path | None = None
                    ) -> list[LibraryEntry]:
    """The catalogue first (installed or not), then other cached models, then the user's folders and files."""
    cached = {e.name.lower(): e for e in scan_hub_cache(cache_dir)}
    entries: list[LibraryEntry] = []
    for item in CATALOGUE:
        if item.file:
            entries.append(_file_variant(item, cache_dir))
            continue
        found = cached.pop(item.repo.lower(), None)
        entries.append(LibraryEntry(
            name=item.repo, title=item.title, role=item.role, family=item.family,
            size_bytes=found.size_bytes if found else item.approx_bytes, licence=item.licence,
            installed=found is not None, origin="hub-cache" if found else "catalogue",
            app_downloaded=bool(found and found.app_downloaded), location=found.location if found else "",
            note=item.note,
        ))
    hidden_set = {h.lower() for h in hidden}
    entries += [e for e in cached.values() if e.name.lower() not in hidden_set]
    seen = {e.location for e in entries}
    for path in user_paths:
        for entry in scan_user_path(Path(path)):
            if entry.location not in seen and entry.name.lower() not in hidden_set:
                seen.add(entry.location)
                entries.append(entry)
    return entries


def _file_variant(item, cache_dir: Path | None) -> LibraryEntry:
    """A catalogue GGUF variant: installed when its one file is in the repository's cached snapshot; the picker
    then takes the file itself (the engine finds the base model from the file's keys)."""
    folder = repo_folder(item.repo, cache_dir)
    try:
        revision = (folder / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        revision = ""
    path = folder / "snapshots" / revision / item.file if revision else None
    installed = path is not None and path.is_file()
    return LibraryEntry(
        name=str(path) if installed else f"{item.repo}/{item.file}", title=item.title, role=item.role,
        family=item.family, size_bytes=path.stat().st_size if installed else item.approx_bytes, licence=item.licence,
        installed=installed, origin="hub-cache" if installed else "catalogue", location=str(path) if installed else "",
        note=item.note, file=item.file, repo=item.repo,
    )


def scan_hub_cache(cache_dir: Path | None = None) -> list[LibraryEntry]:
    """Model repositories in the Hugging Face cache that have a complete snapshot."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    folder = cache_dir or hub_cache_dir()
    try:
        info = scan_cache_dir(folder)
    except CacheNotFound:
        return []
    for warning in info.warnings:
        log.info("Hub cache: %s", warning)
    entries = []
    for repo in info.repos:
        if repo.repo_type != "model" or not repo.revisions:
            continue
        revision = max(repo.revisions, key=lambda r: r.last_modified)
        snapshot = Path(revision.snapshot_path)
        marker = read_marker(repo.repo_path)
        if marker is not None and marker.get("complete") is False:
            continue  # a download that was cancelled or cut off: not installed
        lora = lora_file_of(snapshot)
        if lora is not None:  # a LoRA repository: Use adds its file to the next run's LoRAs
            entries.append(LibraryEntry(
                name=repo.repo_id, title=f"{repo.repo_id} ({lora.name})", role="LoRA", family="LoRA",
                size_bytes=repo.size_on_disk, licence="see the model card", installed=True, origin="hub-cache",
                app_downloaded=marker is not None, location=str(lora)))
            continue
        if not _usable(snapshot):
            continue  # a stray file or two: not installed
        item = catalogue_entry(repo.repo_id)
        role, family = (item.role, item.family) if item else _describe_folder(snapshot)
        entries.append(LibraryEntry(
            name=repo.repo_id, title=item.title if item else repo.repo_id, role=role, family=family,
            size_bytes=repo.size_on_disk, licence=item.licence if item else "see the model card",
            installed=True, origin="hub-cache", app_downloaded=marker is not None, location=str(snapshot),
            note=item.note if item else "",
        ))
    return entries


def _usable(snapshot: Path) -> bool:
    """A snapshot that holds a model (configuration and some weights), not only a stray file or two."""
    has_config = (snapshot / "model_index.json").is_file() or (snapshot / "config.json").is_file()
    has_weights = (any(snapshot.rglob("*.safetensors"))
                   or any(p for s in PICKLE_SUFFIXES for p in snapshot.rglob("*" + s)))
    return has_config and has_weights


def read_marker(repo_path: Path) -> dict | None:
    """The download marker when it is whole: a commit hash and plain relative file names (else None)."""
    try:
        return check_marker(read_json_file(Path(repo_path) / MARKER, "the download record"))
    except (FileNotFoundError, Damaged):
        return None


def scan_user_path(path: Path) -> list[LibraryEntry]:
    """A user folder or file as library entries: a diffusers folder, a folder of models, or a checkpoint."""
    if path.is_file():
        return [_file_entry(path)] if path.suffix.lower() in (".safetensors", ".gguf", *PICKLE_SUFFIXES) else []
    if not path.is_dir():
        return []
    if (path / "model_index.json").is_file():
        return [_folder_entry(path)]
    entries = []
    for child in sorted(path.iterdir()):
        if child.is_dir() and (child / "model_index.json").is_file():
            entries.append(_folder_entry(child))
        elif child.is_file() and child.suffix.lower() in (".safetensors", ".gguf", ".ckpt"):
            entries.append(_file_entry(child))
    return entries


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _folder_entry(path: Path) -> LibraryEntry:
    role, family = _describe_folder(path)
    return LibraryEntry(name=str(path), title=path.name, role=role, family=family, size_bytes=_size(path),
                        licence="see the model's own notes", installed=True, origin="folder", location=str(path))


def _file_entry(path: Path) -> LibraryEntry:
    suffix = path.suffix.lower()
    family = (checkpoint_family(path) if suffix == ".safetensors" else
              "SD 3.5 / FLUX.1 transformer (GGUF)" if suffix == ".gguf" else "pickle (refused by default)")
    role = "LoRA" if suffix == ".safetensors" and is_lora_file(path) else \
        "transformer" if "transformer" in family else "base"
    family = "LoRA" if role == "LoRA" else family
    return LibraryEntry(name=str(path), title=path.stem, role=role, family=family, size_bytes=_size(path),
                        licence="see where the file came from", installed=True, origin="file", location=str(path))


def _describe_folder(folder: Path) -> tuple[str, str]:
    """(role, family) of a diffusers or transformers folder, from its configuration."""
    for name in ("model_index.json", "config.json"):
        try:
            config = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        cls = str(config.get("_class_name") or (config.get("architectures") or [""])[0])
        if "ControlNet" in cls:
            return "ControlNet", "SDXL" if config.get("addition_embed_type") == "text_time" else "SD"
        if "Upscale" in cls:
            return "upscaler", "SD"
        if "Prior" in cls:
            return "prior", "Kandinsky 2.2" if "V22" in cls else "Kandinsky"
        if "Depth" in cls:
            return "depth", "depth estimator"
        if "StableDiffusion3" in cls:
            return "base", "SD 3.5"
        if cls.startswith("Flux"):
            return "base", "FLUX.1 Kontext" if "Kontext" in cls else "FLUX.1"
        if "StableDiffusionXL" in cls:
            return ("refiner" if not config.get("text_encoder", [None])[0] else "base"), "SDXL"
        if "Kandinsky" in cls:
            return "base", "Kandinsky 2.2" if "V22" in cls else "Kandinsky"
        if "StableDiffusion" in cls:
            return "base", "SD"
        return "other", cls or "unknown"
    return "other", "unknown"


def _header_keys(path: Path) -> list[str] | None:
    """The tensor names in a .safetensors header (no weights are read); None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > 100_000_000:
                return None
            return list(json.loads(handle.read(length)).keys())
    except (OSError, ValueError, struct.error, AttributeError):
        return None


def is_lora_file(path: Path) -> bool:
    """True for a .safetensors LoRA (kohya/A1111 ``lora_down``/``lora_up`` or diffusers/PEFT ``lora_A``/``lora_B``)."""
    keys = _header_keys(path) if path.suffix.lower() == ".safetensors" else None
    return bool(keys) and any(m in k for k in keys for m in (".lora_down.", ".lora_up.", ".lora_A.", ".lora_B."))


def lora_file_of(snapshot: Path) -> Path | None:
    """The LoRA a downloaded repository holds (a snapshot with no model configuration and a LoRA at its root)."""
    if (snapshot / "model_index.json").is_file() or (snapshot / "config.json").is_file():
        return None
    return next((f for f in sorted(snapshot.glob("*.safetensors")) if is_lora_file(f)), None)


def checkpoint_family(path: Path) -> str:
    """The family of a .safetensors checkpoint from the names in its header (no weights are read)."""
    keys = _header_keys(path)
    if keys is None:
        return "unreadable"
    joined = "\n".join(keys)
    if "conditioner.embedders.1" in joined:
        return "SDXL" if "conditioner.embedders.0" in joined and "embedders.0.model" not in joined else "SDXL refiner"
    if "cond_stage_model.model." in joined:
        return "SD 2.x"
    if "cond_stage_model.transformer." in joined:
        return "SD 1.x"
    if "double_blocks." in joined or "single_transformer_blocks." in joined:
        return "FLUX.1 transformer"
    if "joint_blocks." in joined or "context_block." in joined:
        return "SD 3.5 transformer"
    if "model.diffusion_model." in joined:
        return "SD (no text encoder)"
    return "unknown"


def _delete_downloaded(folder: Path, snapshot: Path, rel: str) -> int:
    """Delete one file of a snapshot: a plain file, or a link and the blob it points to inside the repository's
    own blobs/ (huggingface_hub's layout). Nothing outside ``folder`` is ever touched; returns the bytes freed."""
    try:
        parent = inside(snapshot, rel.rsplit("/", 1)[0]) if "/" in rel else snapshot.resolve()
    except Damaged:
        return 0  # a folder on the way is a link out of the snapshot
    target = parent / rel.rsplit("/", 1)[-1]
    if target.is_symlink():
        blob = target.resolve()
        target.unlink()
        blobs = (folder / "blobs").resolve()
        if blob.parent == blobs and blob.is_file():
            size = blob.stat().st_size
            blob.unlink()
            return size
        return 0
    if not target.is_file():
        return 0
    size = target.stat().st_size
    target.unlink()
    return size


def remove_download(repo: str, cache_dir: Path | None = None) -> int:
    """Delete the files the library downloaded for ``repo`` (never others); returns the bytes freed."""
    folder = repo_folder(repo, cache_dir)
    marker = read_marker(folder)
    if marker is None:
        damaged = " (its download record is damaged)" if (folder / MARKER).exists() else ""
        raise bad_input(f"{repo} was not downloaded by Restyle{damaged}, "
                        "so Restyle does not delete its files; remove it from the list instead, or delete it with "
                        "`hf cache delete`.")
    freed = 0
    # The marker was checked: the revision is a commit hash and each file a plain relative path; the resolved
    # path is checked again, so a link in the snapshot cannot lead a deletion elsewhere.
    snapshot = folder / "snapshots" / marker["revision"]
    for rel in marker.get("files", []):
        freed += _delete_downloaded(folder, snapshot, rel)
    for directory in sorted((p for p in snapshot.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(directory.iterdir()):
            directory.rmdir()
    (folder / MARKER).unlink(missing_ok=True)
    shutil.rmtree(folder / ".restyle-partial", ignore_errors=True)
    if snapshot.is_dir() and not any(snapshot.iterdir()):
        snapshot.rmdir()
        ref = folder / "refs" / "main"
        if ref.is_file() and ref.read_text().strip() == marker.get("revision"):
            ref.unlink()
    snapshots = folder / "snapshots"
    if snapshots.is_dir() and not any(snapshots.iterdir()) and not any((folder / "blobs").glob("*")):
        shutil.rmtree(folder, ignore_errors=True)
    return freed


def use_slot(entry: LibraryEntry) -> str:
    """Where the library's Use puts a model: "main", "lora", "controlnet", "depth", "upscaler_x2" or "upscaler_x4".

    Before, Use made every row the main model, and an upscaler or ControlNet then failed to load as one.
    """
    role = entry.role.lower()
    if role == "lora":
        return "lora"
    if role == "controlnet":
        return "controlnet"
    if role == "depth":
        return "depth"
    if role != "upscaler":
        return "main"
    text = f"{entry.name} {entry.title}".lower()
    if "latent" in text or "x2" in text or "×2" in text:
        return "upscaler_x2"
    try:
        index = json.loads((Path(entry.location or entry.name) / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "upscaler_x4"
    return "upscaler_x2" if "LatentUpscale" in str(index.get("_class_name", "")) else "upscaler_x4"
