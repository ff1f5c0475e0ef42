"""One validator per file format Restyle reads, so that every reader is total.

A file written by an older version, cut short by a full disk, edited by hand or crafted by someone else must
never stop the app: each reader parses through ``load_json`` (size and nesting bounded, every JSON failure one
``Damaged``), checks the shape with the validator of its format here, and keeps a damaged file aside with
``keep_aside`` instead of overwriting it, then says so. Formats checked here: history nodes (index.json and the
node chunk of every picture), the queue (queue.json), the batch manifest (restyle-batch.json) and the download
marker (restyle-download.json). The types of generation and upscale settings come from their dataclasses, so a
field added there is checked without an edit here. Plain Python; no Qt, no torch.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .files import random_hex

MAX_DEPTH = 32  # our own files nest 4 levels at most
MAX_JSON_BYTES = 256 * 1024 * 1024  # an index of 100,000 nodes is about 100 MB
COMMIT_HASH = re.compile(r"[0-9a-f]{40}")


class Damaged(ValueError):
    """A file whose content does not have the shape its format needs; the message says what is wrong."""


def load_json(raw: bytes | str, what: str = "the file") -> Any:
    """Parse JSON with bounded size and nesting; every failure is ``Damaged`` (never RecursionError)."""
    if len(raw) > MAX_JSON_BYTES:
        raise Damaged(f"{what} is larger than any file Restyle writes")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise Damaged(f"{what} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Damaged(f"{what} is not valid JSON ({exc.__class__.__name__})") from None
    check_depth(data, what)
    return data


def read_json_file(path: Path, what: str) -> Any:
    """The JSON in ``path``; FileNotFoundError when it is missing, ``Damaged`` when it cannot be used."""
    return load_json(read_bounded(path, what), what)


def read_bounded(path: Path, what: str) -> bytes:
    """The bytes of ``path``; FileNotFoundError when it is missing, ``Damaged`` when it is unreadable or larger than
    any file Restyle writes."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise Damaged(f"{what} is larger than any file Restyle writes")
        return path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise Damaged(f"{what} cannot be read ({exc.strerror or exc})") from None


def check_depth(data: Any, what: str = "the file", limit: int = MAX_DEPTH) -> None:
    """Raise ``Damaged`` when containers nest deeper than ``limit`` (checked without recursion)."""
    if not isinstance(data, (dict, list)):
        return
    containers = (dict, list)
    stack = [(data, 1)]
    while stack:  # only containers are pushed: a 100,000-node index holds millions of plain values
        value, depth = stack.pop()
        if depth > limit:
            raise Damaged(f"{what} is nested too deeply")
        children = value.values() if type(value) is dict else value
        stack += [(child, depth + 1) for child in children if isinstance(child, containers)]


def keep_aside(path: Path) -> Path | None:
    """Rename a damaged file to ``<name>.damaged-<random>`` beside it (never overwritten); None when impossible."""
    target = path.with_name(f"{path.name}.damaged-{random_hex(3)}")
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target


# --- typed fields from dataclasses -----------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_float(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _checker(hint: Any) -> Callable[[Any], bool]:
    """A test that a JSON value fits a dataclass field's type (int is not bool; a float may be written as an int).

    Built once per field: opening 100,000 history nodes checks millions of values.
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        rest = [_checker(a) for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:  # X | None, the common case
            inner = rest[0]
            return lambda value: value is None or inner(value)
        options = [_checker(a) for a in args]
        return lambda value: any(check(value) for check in options)
    if hint is type(None):
        return lambda value: value is None
    if hint is bool:
        return lambda value: isinstance(value, bool)
    if hint is int:
        return _is_int
    if hint is float:
        return _is_float
    if hint is str:
        return lambda value: isinstance(value, str)
    if hint is dict or origin is dict:
        return lambda value: isinstance(value, dict)
    if hint in (list, tuple) or origin in (list, tuple):
        items = [_checker(a) for a in typing.get_args(hint) if a is not Ellipsis]
        if not items:
            return lambda value: isinstance(value, (list, tuple))
        return lambda value: isinstance(value, (list, tuple)) and all(any(c(v) for c in items) for v in value)
    return lambda value: True  # a nested record or anything else: its own reader checks it


@functools.cache
def _field_checks(cls: type) -> dict[str, Callable[[Any], bool]]:
    """Each field of dataclass ``cls`` with the test for its type, worked out once per class (get_type_hints
    compiles every annotation string: done per record it made opening 10,000 history nodes take tens of seconds)."""
    hints = typing.get_type_hints(cls)
    return {f.name: _checker(hints[f.name]) for f in dataclasses.fields(cls)}


def check_fields(data: dict, cls: type, what: str) -> None:
    """Raise ``Damaged`` when a known field of dataclass ``cls`` has a value of the wrong type."""
    checks = _field_checks(cls)
    for name, value in data.items():  # the record's keys, often far fewer than the class's fields
        fits = checks.get(name)
        if fits is not None and not fits(value):
            raise Damaged(f"{what}: {name} has a value of the wrong type ({type(value).__name__})")


def check_params(params: Any, what: str = "the settings") -> None:
    """A GenerationParams dict as saved in a node or a queued job."""
    if not isinstance(params, dict):
        raise Damaged(f"{what} are not a record")
    check_fields(params, _params_class(), what)


@functools.cache
def _params_class() -> type:
    """GenerationParams, imported on first use (params imports this module) and then kept: one lookup per node
    of a 100,000-node index adds up."""
    from .params import GenerationParams

    return GenerationParams


def check_node(node: Any) -> None:
    """The fields of a history node that Node's own check leaves open (text fields, settings, upscale)."""
    for name in ("model", "model_hash", "vae_id"):
        if not isinstance(getattr(node, name), str):
            raise Damaged(f"node {node.id}: {name} must be text")
    for name in ("chain_mode", "source"):
        if getattr(node, name) is not None and not isinstance(getattr(node, name), str):
            raise Damaged(f"node {node.id}: {name} must be text")
    check_params(node.params, f"the settings of node {node.id}")
    if node.upscale is not None:
        from .upscale import UpscaleParams

        check_fields(node.upscale, UpscaleParams, f"the upscale of node {node.id}")


# --- cached latents -----------------------------------------------------------------------------------------
def latents_match(shape: tuple[int, ...], picture_size: tuple[int, int], scale: int, channels: int) -> bool:
    """True when cached latents are those of a picture of ``picture_size`` (width, height): one sample, the
    VAE's channels, and the picture's size ÷ ``scale``. Anything else (a swapped or crafted file) is not used."""
    return (len(shape) == 4 and shape[0] == 1 and shape[1] == channels
            and shape[3] * scale == picture_size[0] and shape[2] * scale == picture_size[1])


# --- the queue -------------------------------------------------------------------------------------------------
def check_job(item: Any, job_cls: type) -> None:
    """One queued job (``job_cls`` is the queue's Job dataclass): every field typed, settings checked."""
    if not isinstance(item, dict):
        raise Damaged("a queued job is not a record")
    check_fields(item, job_cls, "a queued job")
    check_params(item.get("params"), "the settings of a queued job")


def check_group(item: Any, group_cls: type) -> None:
    """One group of queued jobs (a sweep): typed fields, one label and one node slot per cell."""
    if not isinstance(item, dict):
        raise Damaged("a queued sweep is not a record")
    check_fields(item, group_cls, "a queued sweep")
    if not all(isinstance(v, str) for v in [*item.get("labels", []), *item.get("nodes", [])]):
        raise Damaged("a queued sweep has labels or results that are not text")


# --- the batch manifest -------------------------------------------------------------------------------------
def check_manifest(data: Any) -> dict[str, dict]:
    """restyle-batch.json: {"files": {input name: {"output": name, ...}}}; returns the entries that are whole."""
    if not isinstance(data, dict) or not isinstance(data.get("files", {}), dict):
        raise Damaged("the batch record is not a record of files")
    return {name: entry for name, entry in data.get("files", {}).items()
            if isinstance(entry, dict) and isinstance(entry.get("output", ""), str)}


# --- the download marker -------------------------------------------------------------------------------------
def check_marker(data: Any) -> dict:
    """restyle-download.json: the revision must be a commit hash; only plain relative file paths are kept."""
    if not isinstance(data, dict):
        raise Damaged("the download record is not a record")
    revision, files = data.get("revision"), data.get("files", [])
    if not isinstance(revision, str) or not COMMIT_HASH.fullmatch(revision):
        raise Damaged("the download record does not name a commit")
    if not isinstance(files, list):
        raise Damaged("the download record has no list of files")
    return {**data, "files": [f for f in files if is_safe_relative(f)]}


def is_safe_relative(name: Any) -> bool:
    """True for a relative POSIX path of plain names ("unet/config.json"): no root, drive, "..", "." or "\\"."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name or ":" in name:
        return False
    parts = name.split("/")
    return all(part not in ("", ".", "..") for part in parts)


def inside(folder: Path, relative: str) -> Path:
    """``folder / relative`` resolved, or ``Damaged`` when it would leave ``folder`` (names, links, "..")."""
    if not is_safe_relative(relative):
        raise Damaged(f"{relative!r} is not a plain path inside its folder")
    base = folder.resolve()
    target = (base / relative).resolve()
    if base != target and base not in target.parents:
        raise Damaged(f"{relative!r} leads outside {folder}")
    return target
