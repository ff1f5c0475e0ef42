"""The LoRAs and embeddings the user has: found in their folders, offered by the panels and the prompt's
completion, and matched against a dropped picture's ``<lora:…>`` tags and hashes.

Scanning lists file names only (no file is opened), so it is cheap enough to run when a panel asks; hashes
are computed only for a dropped picture whose LoRA is not found by name.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QObject, Signal

from desktop.core.style_files import (
    EMBEDDING_SUFFIXES,
    LORA_SUFFIXES,
    PICKLE_SUFFIXES,
    StyleFile,
    lora_hash,
    parse_hashes,
    parse_lora_tags,
    scan_folders,
)


class StyleLibrary(QObject):
    """The user's LoRA and embedding files, by name."""

    changed = Signal()

    def __init__(self, settings):
        super().__init__()
        self._settings = settings
        self._loras: list[StyleFile] | None = None
        self._embeddings: list[StyleFile] | None = None

    def loras(self) -> list[StyleFile]:
        """The LoRA files in the LoRA folders (pickles listed too: the engine refuses them with a sentence)."""
        if self._loras is None:
            self._loras = scan_folders(self._settings.lora_dirs, (*LORA_SUFFIXES, *PICKLE_SUFFIXES))
        return self._loras

    def embeddings(self) -> list[StyleFile]:
        """The embedding files in the embedding folders."""
        if self._embeddings is None:
            self._embeddings = scan_folders(self._settings.embedding_dirs, EMBEDDING_SUFFIXES)
        return self._embeddings

    def rescan(self) -> None:
        """Look at the folders again (files added or removed outside Restyle)."""
        self._loras = self._embeddings = None
        self.changed.emit()

    def add_lora_folder(self, folder: str) -> None:
        """Find LoRAs in ``folder`` too, from now on and after restarts."""
        self._settings.add_lora_dir(folder)
        self.rescan()

    def add_embedding_folder(self, folder: str) -> None:
        """Find embeddings in ``folder`` too."""
        self._settings.add_embedding_dir(folder)
        self.rescan()

    def lora(self, name: str) -> StyleFile | None:
        """The LoRA file of a name, or None."""
        return next((f for f in self.loras() if f.name == name), None)

    def match_restored(self, prompt: str, fields: dict[str, str]) -> tuple[str, list[str]]:
        """A dropped picture's prompt with its ``<lora:…>`` tags pointed at the user's files, and what to say.

        A tag whose name is not in the folders is looked up by the picture's ``Lora hashes``; found, the tag is
        renamed to the file's name, else the LoRA is named as missing.
        """
        _, tags = parse_lora_tags(prompt)
        hashes = parse_hashes(fields.get("Lora hashes", ""))
        notes: list[str] = []
        missing: list[str] = []
        for ref in tags:
            if self.lora(ref.name) is not None:
                continue
            wanted = hashes.get(ref.name)
            found = next((f for f in self.loras() if wanted and f.path.endswith(".safetensors")
                          and lora_hash(f.path) == wanted), None) if wanted else None
            if found is not None:
                prompt = re.sub(rf"<lora:{re.escape(ref.name)}(?=[:>])", f"<lora:{found.name}", prompt)
                notes.append(f"The LoRA {ref.name} was found as {found.name} by its hash.")
            else:
                missing.append(ref.name)
        if missing:
            notes.append(f"Not in your LoRA folders: {', '.join(missing)}. Add the folder that holds "
                         f"{'them' if len(missing) > 1 else 'it'} in the LoRA panel, or the run will stop there.")
        names = {f.name for f in self.embeddings()}
        ti = [name for name in parse_hashes(fields.get("TI hashes", "")) if name not in names]
        if ti:
            notes.append(f"Embeddings not in your embedding folders: {', '.join(ti)} (their names are read as "
                         "plain words until they are added).")
        return prompt, notes
