"""Fuzz every file Restyle reads: random bytes, truncations, flipped bytes, wrong types and deep nesting. No
exception may escape a reader, and the window must start on whatever the data folder holds. Kept fast (a modest
number of examples, the window only for the formats it reads at start) so they run with every test run;
RESTYLE_FUZZ_EXAMPLES=500 searches longer."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from desktop.core.batch import Manifest, output_names
from desktop.core.captions import node_caption, node_tooltip
from desktop.core.errors import RestyleError
from desktop.core.history import Node
from desktop.core.index_file import encode_index
from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.node_files import NODE_CHUNK, read_node_chunk
from desktop.core.workspace import Workspace

FAST = settings(max_examples=int(os.environ.get("RESTYLE_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=list(HealthCheck))
WINDOW = settings(max_examples=int(os.environ.get("RESTYLE_FUZZ_EXAMPLES", "8")), deadline=None,
                  suppress_health_check=list(HealthCheck))

NODE = {"id": "abc123", "parent": None, "kind": "generation", "image": "abc123.png", "created": "2026-01-01T00:00:00",
        "width": 8, "height": 8, "seed": 1, "params": {"model": "m", "prompt": "a cat", "strength": 0.5,
                                                       "init_image": "x.png"}}
JOB = {"id": "j1", "kind": "generate", "label": "a cat", "params": {"model": "m", "prompt": "a cat"}}
VALID = {
    "index": json.dumps({"version": 1, "nodes": [NODE]}).encode(),
    "queue": json.dumps({"version": 1, "paused": False, "jobs": [JOB], "groups": [
        {"id": "g", "kind": "sweep", "parameter": "strength", "labels": ["a"], "nodes": [""]}]}).encode(),
    "manifest": json.dumps({"version": 1, "files": {"a.png": {"output": "a.png", "settings": "k", "size": 1,
                                                             "mtime_ns": 1, "seed": 1}}}).encode(),
}

VALID["index2"] = encode_index([Node.from_dict(NODE)], 0)  # the index format since version 2: header, lines

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def _replace_fields(valid: bytes):
    """The valid record with some fields (at any level) replaced by random JSON values."""
    def swap(data, choices):
        if isinstance(data, dict):
            return {k: (choices.pop() if choices and len(choices) % 2 else swap(v, choices)) for k, v in data.items()}
        if isinstance(data, list):
            return [swap(v, choices) for v in data]
        return choices.pop() if choices else data
    return st.lists(json_values, min_size=1, max_size=12).map(
        lambda values: json.dumps(swap(json.loads(valid), list(values)), allow_nan=True).encode())


def damaged_index2():
    """A version 2 index damaged as bytes, or with random values in its header (the settings lines kept)."""
    head, rest = VALID["index2"].split(b"\n", 1)
    return damaged(VALID["index2"]) | _replace_fields(head).map(lambda header: header + b"\n" + rest) | \
        damaged(rest).map(lambda lines: head + b"\n" + lines)


def damaged(valid: bytes):
    """Bytes a damaged or crafted copy of a file might hold (for JSON files, also wrong types inside)."""
    try:
        json.loads(valid)
        inside = [_replace_fields(valid)]
    except ValueError:
        inside = []
    return st.one_of(
        st.binary(max_size=200),
        st.integers(0, len(valid)).map(lambda n: valid[:n]),  # cut short
        st.tuples(st.integers(0, len(valid) - 1), st.integers(1, 255)).map(
            lambda p: valid[:p[0]] + bytes([valid[p[0]] ^ p[1]]) + valid[p[0] + 1:]),  # one byte flipped
        json_values.map(lambda v: json.dumps(v).encode()),  # another shape
        *inside,  # wrong types inside the right shape
        st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n),  # deep nesting
        st.integers(1, 50_000).map(lambda n: b'{"nodes":' * n + b"1" + b"}" * n),
    )


_made: list[Path] = []


def _folder() -> Path:
    """A fresh folder per example (hypothesis reruns the test body; pytest's tmp_path is one per test)."""
    _made.append(Path(tempfile.mkdtemp(prefix="restyle-fuzz-")))
    return _made[-1]


@pytest.fixture(autouse=True)
def _clean_up(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # a relative path in a fuzzed file must never reach the checkout
    yield
    while _made:
        shutil.rmtree(_made.pop(), ignore_errors=True)


def _png(chunks: dict[str, str] | None = None, size=(8, 8)) -> bytes:
    info = PngInfo()
    for key, value in (chunks or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", size, (90, 30, 30)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


# --- readers ----------------------------------------------------------------------------------------------------
@FAST
@given(damaged(VALID["index"]) | damaged_index2())
def test_the_history_index_never_stops_opening_or_saving(raw):
    folder = _folder()
    (folder / "images").mkdir()
    (folder / "images" / "abc123.png").write_bytes(_png())
    (folder / "index.json").write_bytes(raw)
    workspace, _report = Workspace.open(folder)
    for node in workspace.tree:  # the settings are read (and checked) here, not at the open
        node_caption(node), node_tooltip(node)
    workspace.save_index()
    workspace.close()


@FAST
@given(json_values, damaged(json.dumps(NODE).encode()))
def test_node_records_in_pictures_are_read_or_ignored(value, raw):
    folder = _folder()
    for index, text in enumerate((json.dumps(value), raw.decode("latin-1"))):
        path = folder / f"n{index}.png"
        path.write_bytes(_png({NODE_CHUNK: text}))
        node = read_node_chunk(path)
        if node is not None:
            node_caption(node), node_tooltip(node)
    try:
        node = Node.from_dict(value)
    except (ValueError, TypeError):
        return
    node_caption(node), node_tooltip(node)


@FAST
@given(damaged(VALID["queue"]))
def test_the_queue_file_never_stops_the_queue(raw):
    from desktop.model.queue import JobQueue

    path = _folder() / "queue.json"
    path.write_bytes(raw)
    queue = JobQueue(path)
    queue.set_paused(not queue.paused)  # and it saves without tripping over what it read
    [j.label for j in queue.jobs]


@FAST
@given(damaged(VALID["manifest"]))
def test_the_batch_record_never_stops_a_batch(raw):
    folder = _folder()
    (folder / "restyle-batch.json").write_bytes(raw)
    (folder / "in").mkdir()
    picture = folder / "in" / "a.png"
    picture.write_bytes(_png())
    manifest = Manifest(folder / "restyle-batch.json")
    names = output_names([picture], folder, manifest)
    assert len(set(names.values())) == 1
    manifest.is_done(picture, "k", folder, names["a.png"])


@FAST
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_picture_settings_text_is_read_or_refused(text):
    folder = _folder()
    path = folder / "p.png"
    path.write_bytes(_png({"parameters": text}))
    found = read_parameters(path)
    with contextlib.suppress(RestyleError):
        parse_parameters_text(found or text)


@FAST
@given(damaged(_png({"parameters": "a cat\nSteps: 20, Sampler: Euler, CFG scale: 7"})))
def test_damaged_pictures_give_no_settings_and_no_thumbnail_but_no_error(raw):
    folder = _folder()
    (folder / "images").mkdir()
    (folder / "images" / "abc123.png").write_bytes(raw)
    (folder / "index.json").write_bytes(VALID["index"])
    read_parameters(folder / "images" / "abc123.png")
    workspace, _ = Workspace.open(folder)
    if "abc123" in workspace.tree:
        workspace.thumbnail_path("abc123")
    workspace.close()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=300) | st.integers(0, 400).map(lambda n: _latents_bytes()[:n]))
def test_cached_latents_are_used_or_ignored(raw):
    from desktop.engine.latents import load_latents

    path = _folder() / "x.safetensors"
    path.write_bytes(raw)
    load_latents(path)


def _latents_bytes() -> bytes:
    import torch
    from safetensors.torch import save

    return save({"latents": torch.zeros(1, 4, 2, 2)}, metadata={"vae_id": "v"})


def _zip_bytes() -> bytes:
    folder = _folder()
    workspace, _ = Workspace.open(folder / "ws")
    from desktop.core.node_files import write_node_image

    node = Node(**{**NODE, "kind": "import", "params": {}})
    write_node_image(workspace.folder, node, Image.new("RGB", (8, 8)), None)
    workspace.add_node(node)
    path = workspace.export_zip(folder / "x.restyle")
    workspace.close()
    return path.read_bytes()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_shared_workspaces_open_or_are_refused_with_a_sentence(data):
    valid = _zip_bytes()
    raw = data.draw(damaged(valid))
    folder = _folder()
    (folder / "x.restyle").write_bytes(raw)
    try:
        workspace, _ = Workspace.import_zip(folder / "x.restyle", folder / "opened")
    except RestyleError:
        assert not (folder / "opened").exists()
        assert not [p for p in folder.iterdir() if p.name.startswith(".opened")]
        return
    for node in workspace.tree:
        node_caption(node), node_tooltip(node), workspace.thumbnail_path(node)
    workspace.close()


# --- the window starts ---------------------------------------------------------------------------------------------
def _start_window(data_dir: Path) -> None:
    from PySide6.QtWidgets import QTreeView

    from desktop.app import build_main_window

    window = build_main_window([], data_dir=data_dir)
    try:
        window.show()
        window.findChild(QTreeView, "historyView").expandAll()
        window.grab()
        assert window.isVisible()
    finally:
        window.close()
        window.deleteLater()


@WINDOW
@given(index=damaged(VALID["index"]) | damaged_index2(), queue=damaged(VALID["queue"]))
def test_the_window_starts_on_a_damaged_index_and_queue(qapp, index, queue):
    data_dir = _folder()
    workspace = data_dir / "workspaces" / "default"
    (workspace / "images").mkdir(parents=True)
    (workspace / "images" / "abc123.png").write_bytes(_png())
    (workspace / "index.json").write_bytes(index)
    (data_dir / "queue.json").write_bytes(queue)
    _start_window(data_dir)


settings_lines = st.lists(st.tuples(
    st.sampled_from(["window/geometry", "window/state", "history/workspace", "history/selected", "model/current",
                     "model/recent", "params/strength", "params/steps", "params/prompt", "output/dir",
                     "history/latent_budget", "runtime/device", "runtime/dtype", "library/paths",
                     "upscale/noise_level", "params/aesthetic_score"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=30)
    | st.sampled_from(["@ByteArray(xx)", "@Variant(\\0\\0)", "-1", "1e999", "nan", "/", "\\\\", "true", "a, b"])),
    max_size=6)


@WINDOW
@given(settings_lines)
def test_the_window_starts_on_a_garbage_settings_file(qapp, lines):
    data_dir = _folder()
    sections: dict[str, list[str]] = {}
    for key, value in lines:
        section, name = key.split("/")
        sections.setdefault(section, []).append(f"{name}={value}")
    (data_dir / "settings.ini").write_text("".join(f"[{s}]\n" + "\n".join(v) + "\n" for s, v in sections.items()))
    _start_window(data_dir)
