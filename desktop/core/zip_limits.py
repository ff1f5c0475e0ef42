"""Bounded unpacking of a shared workspace (.restyle zip): sizes, totals and ratios checked before any byte is
written, each entry's real size checked while it is copied, and every way a zip can be unreadable (a bad CRC, an
encrypted entry, an unknown compression, a broken deflate stream) turned into one sentence. No Qt, no torch."""

from __future__ import annotations

import shutil
import zipfile
import zlib
from pathlib import Path

MAX_ENTRY_BYTES = 1 << 30  # one picture or latent file; an 8192² PNG is far smaller
MAX_TOTAL_BYTES = 64 << 30  # a whole history
MAX_RATIO = 100  # PNG and safetensors are stored; only the index compresses, and not a hundredfold
RATIO_FROM_BYTES = 1 << 20  # tiny entries may compress well; they cannot make a bomb
MAX_ENTRIES = 1_000_000

# What reading a damaged or unsupported entry raises (zipfile, zlib and bz2/lzma underneath).
UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError,
              ValueError)


class ZipRefused(ValueError):
    """A zip Restyle will not unpack; the message ends a sentence that starts with the file's name."""


def check_entries(infos: list[zipfile.ZipInfo], free_bytes: int) -> None:
    """Refuse, before unpacking, archives with too many or too large entries, compression bombs or encryption."""
    if len(infos) > MAX_ENTRIES:
        raise ZipRefused(f"it holds more than {MAX_ENTRIES:,} files")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ZipRefused(f"{info.filename} in it is encrypted")
        if info.file_size > MAX_ENTRY_BYTES:
            raise ZipRefused(f"{info.filename} in it would unpack to {info.file_size >> 20:,} MB")
        if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ZipRefused(f"{info.filename} in it would unpack to {info.file_size // max(info.compress_size, 1):,} "
                             "times its packed size (a zip bomb)")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise ZipRefused(f"it would unpack to {total >> 30:,} GB")
    if total > free_bytes:
        raise ZipRefused(f"it needs {total >> 20:,} MB and the disk has {free_bytes >> 20:,} MB free")


def copy_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Copy one entry, stopping as soon as it gives more bytes than its header said (a lying header)."""
    written = 0
    with archive.open(info) as src, open(target, "wb") as dst:
        while block := src.read(1 << 20):
            written += len(block)
            if written > info.file_size:
                raise ZipRefused(f"{info.filename} in it is larger than its header says")
            dst.write(block)


def free_bytes(folder: Path) -> int:
    """Free space where ``folder`` is (or would be made)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return 0
