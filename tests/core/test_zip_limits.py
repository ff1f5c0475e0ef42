"""Opening a shared workspace (.restyle) that is damaged, encrypted, oddly compressed or a zip bomb is one
sentence and leaves nothing behind (before: tracebacks, a hidden staging folder, or 1 GiB unpacked)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from desktop.core.errors import RestyleError
from desktop.core.history import Node
from desktop.core.node_files import write_node_image
from desktop.core.workspace import Workspace

NODE = dict(id="abc123", parent=None, kind="import", image="abc123.png", created="2026-01-01T00:00:00+00:00",
            width=32, height=32)


@pytest.fixture()
def shared(tmp_path) -> Path:
    """A real exported workspace with one picture."""
    source, _ = Workspace.open(tmp_path / "source")
    node = Node(**NODE)
    write_node_image(source.folder, node, Image.new("RGB", (32, 32), (200, 30, 30)), None)
    source.add_node(node)
    path = source.export_zip(tmp_path / "shared.restyle")
    source.close()
    return path


def _rewrite(path: Path, **entries: bytes | tuple[bytes, int]) -> None:
    """Rewrite the zip with some entries replaced: bytes (stored) or (bytes, compression)."""
    with zipfile.ZipFile(path) as archive:
        old = {i.filename: (archive.read(i), i.compress_type) for i in archive.infolist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in {**old, **entries}.items():
            data, method = value if isinstance(value, tuple) else (value, zipfile.ZIP_STORED)
            archive.writestr(name, data, compress_type=method)


def _patch_central(path: Path, name: str, offset: int, fmt: str, value: int) -> None:
    """Set a field of ``name``'s central directory record (and its local header's twin when there is one)."""
    raw = bytearray(path.read_bytes())
    encoded = name.encode()
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        length = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46:central + 46 + length] == encoded:
            struct.pack_into(fmt, raw, central + offset, value)
            local = struct.unpack_from("<I", raw, central + 42)[0]
            if offset in (8, 10):  # flags and compression sit 2 bytes earlier in the local header
                struct.pack_into(fmt, raw, local + offset - 2, value)
        central = raw.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(raw))


def _refused(shared: Path, tmp_path: Path, *words: str) -> None:
    target = tmp_path / "opened"
    with pytest.raises(RestyleError) as info:
        Workspace.import_zip(shared, target)
    for word in words:
        assert word in info.value.message
    assert shared.name in info.value.message
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".opened")]  # no staging folder left


def test_a_bad_crc_is_a_sentence_and_leaves_nothing(shared, tmp_path):
    with zipfile.ZipFile(shared) as archive:
        info = archive.getinfo("images/abc123.png")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw = bytearray(shared.read_bytes())
    raw[start + 40] ^= 0xFF  # one byte of the stored picture
    shared.write_bytes(bytes(raw))
    _refused(shared, tmp_path, "damaged")


def test_an_encrypted_entry_is_a_sentence(shared, tmp_path):
    _patch_central(shared, "images/abc123.png", 8, "<H", 0x1)
    _refused(shared, tmp_path, "encrypted")


def test_an_unknown_compression_is_a_sentence(shared, tmp_path):
    _patch_central(shared, "images/abc123.png", 10, "<H", 99)
    _refused(shared, tmp_path, "cannot read")


def test_a_broken_deflate_stream_is_a_sentence(shared, tmp_path):
    picture = (tmp_path / "p.bin")
    picture.write_bytes(bytes(range(256)) * 64)
    _rewrite(shared, **{"images/abc123.png": (picture.read_bytes(), zipfile.ZIP_DEFLATED)})
    with zipfile.ZipFile(shared) as archive:
        info = archive.getinfo("images/abc123.png")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw = bytearray(shared.read_bytes())
    raw[start:start + 8] = b"\xff" * 8  # the deflate stream's first bytes
    shared.write_bytes(bytes(raw))
    _refused(shared, tmp_path, "damaged")


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(shared, tmp_path):
    zeros = b"\0" * (64 << 20)
    _rewrite(shared, **{"latents/abc123.safetensors": (zeros, zipfile.ZIP_DEFLATED)})
    assert shared.stat().st_size < 1 << 20
    _refused(shared, tmp_path, "zip bomb")


def test_a_whole_shared_workspace_still_opens(shared, tmp_path):
    workspace, _ = Workspace.import_zip(shared, tmp_path / "opened")
    assert "abc123" in workspace.tree
    workspace.close()
