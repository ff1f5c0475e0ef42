"""Textual-inversion embeddings: read once per model, triggered by name in the prompt.

Every file is read by Restyle itself and given to diffusers as plain tensors, one token per vector, so the
three formats behave the same: AUTOMATIC1111 ``.safetensors`` (``emb_params``; SDXL ``clip_l`` / ``clip_g``),
AUTOMATIC1111 ``.pt`` (``string_to_param``, read with ``torch.load(weights_only=True)`` and only when pickles are
allowed) and diffusers ``learned_embeds`` (one tensor under the token's name). The tokens are Restyle's own
(``<ti3v0> <ti3v1> …``), never the embedding's name, so a name that is also a word, or a prefix of another
name, cannot be mistaken; the prompt's trigger is replaced by them before encoding, so the plain path and the
weighted (Compel) path both see them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from desktop.core.errors import bad_input
from desktop.core.style_files import (
    EMBEDDING_SUFFIXES,
    PICKLE_SUFFIXES,
    StyleFile,
    embedding_hash,
    embedding_names_in,
    replace_embedding_triggers,
    scan_folders,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UsedEmbedding:
    """An embedding a run used: its name and A1111 hash."""

    name: str
    hash: str


class EmbeddingSet:
    """The embeddings loaded into one model's tokenizers and text encoders."""

    def __init__(self):
        self._tokens: dict[str, str] = {}  # file path → the tokens that stand for it in prompts
        self.loads = 0

    def prepare(self, pipe, family: str, prompts: list[str], folders, *, allow_pickles: bool,
                extra: tuple[str, ...] = ()) -> tuple[list[str], list[UsedEmbedding]]:
        """The prompts with embedding triggers replaced by their tokens, loading what is new; and what was used."""
        files = {f.name: f for f in scan_folders(folders, EMBEDDING_SUFFIXES)}
        for path in extra:
            candidate = Path(path).expanduser()
            if not candidate.is_file():
                raise bad_input(f"The embedding {path} does not exist.")
            files[candidate.stem] = StyleFile(candidate.stem, str(candidate))
        if not files:
            return prompts, []
        used_names: list[str] = []
        for prompt in prompts:
            for name in embedding_names_in(prompt, files):
                if name not in used_names:
                    used_names.append(name)
        if not used_names:
            return prompts, []
        if family not in ("sd", "sdxl"):
            return prompts, []  # the words stay words; nothing to load into
        replacements: dict[str, str] = {}
        used: list[UsedEmbedding] = []
        for name in used_names:
            file = files[name]
            if file.path not in self._tokens:
                self._tokens[file.path] = self._load(pipe, family, file, allow_pickles)
            replacements[name] = self._tokens[file.path]
            used.append(UsedEmbedding(name, embedding_hash(file.path)))
        return [replace_embedding_triggers(p, replacements) for p in prompts], used

    def _load(self, pipe, family: str, file: StyleFile, allow_pickles: bool) -> str:
        vectors = read_embedding(file, allow_pickles)
        prefix = f"<ti{len(self._tokens)}v"
        encoders = [("clip_l", pipe.tokenizer, pipe.text_encoder)]
        if family == "sdxl":
            encoders.append(("clip_g", pipe.tokenizer_2, pipe.text_encoder_2))
        planned = []  # every encoder checked before any is changed, so a refusal leaves the model as it was
        for key, tokenizer, encoder in encoders:
            if tokenizer is None or encoder is None:
                continue
            tensor = vectors.get(key)
            width = encoder.get_input_embeddings().weight.shape[1]
            if tensor is None or tensor.shape[-1] != width:
                raise bad_input(self._wrong_family(file, family, vectors))
            planned.append((tokenizer, encoder, tensor.reshape(-1, width)))
        count = planned[0][2].shape[0] if planned else 0
        tokens = [f"{prefix}{i}>" for i in range(count)]
        for tokenizer, encoder, tensor in planned:
            pipe.load_textual_inversion([row.unsqueeze(0) for row in tensor.to(encoder.dtype)], token=tokens,
                                        tokenizer=tokenizer, text_encoder=encoder)
        self.loads += 1
        return " ".join(tokens)

    @staticmethod
    def _wrong_family(file: StyleFile, family: str, vectors: dict) -> str:
        made_for = "SDXL" if "clip_g" in vectors else "SD 1.x/2.x"
        loaded = "SDXL" if family == "sdxl" else "SD 1.x/2.x"
        if made_for == loaded:
            made_for = "another kind of model"
        return (f"The embedding {file.name} was made for {made_for}, but the loaded model is {loaded}: "
                f"use an embedding made for {loaded} models, or take {file.name} out of the prompt.")


def read_embedding(file: StyleFile, allow_pickles: bool) -> dict:
    """{"clip_l": tensor, "clip_g": tensor (SDXL only)} from any of the three formats; raises bad input."""
    path = Path(file.path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".safetensors":
            from safetensors.torch import load_file

            data = load_file(str(path))
        else:
            if suffix in PICKLE_SUFFIXES and not allow_pickles:
                raise bad_input(
                    f"{path.name} is a pickled embedding ({suffix}), which can run arbitrary code when it is "
                    "opened; Restyle does not open these by default. Use a .safetensors version, or turn on "
                    "\"Allow pickle checkpoints\" (--allow-pickles) if you trust the file: it is then read as "
                    "weights only."
                )
            import torch

            data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        if getattr(exc, "kind", None) is not None:
            raise
        raise bad_input(f"The embedding {path.name} could not be read as weights ({exc}).") from None
    if "clip_l" in data or "clip_g" in data:
        return {k: data[k] for k in ("clip_l", "clip_g") if k in data}
    if "string_to_param" in data:
        return {"clip_l": next(iter(data["string_to_param"].values()))}
    if "emb_params" in data:
        return {"clip_l": data["emb_params"]}
    tensors = [v for v in data.values() if hasattr(v, "shape")]
    if len(tensors) == 1:  # diffusers learned_embeds: {token: tensor}
        return {"clip_l": tensors[0]}
    raise bad_input(f"{path.name} is not a textual-inversion embedding Restyle can read.")
