"""Reference images through an IP-Adapter: the style of a picture as a second prompt.

``load_ip_adapter`` puts the adapter's image-attention weights into the loaded UNet; the CLIP image encoder
(``CLIPVisionModelWithProjection``) is loaded by Restyle and registered on whichever pipeline runs, so the
img2img, text-to-image and depth ControlNet pipelines made with ``from_pipe`` all take ``ip_adapter_image``.
Nothing else is reloaded; with no reference the adapter is unloaded and the UNet is exactly as it was.

"Style only" is InstantStyle: the adapter is heard only in the style block (the middle attention of the first
cross-attention up block: ``up_blocks.1`` in SD 1.5, ``up_blocks.0`` in SDXL) and silent elsewhere, so the
reference gives its colours and strokes without its layout or subject.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from desktop.core.errors import bad_input, model_missing
from desktop.core.images import load_image

from .hub import hub_file

log = logging.getLogger(__name__)

# (repo, subfolder, weight file, image encoder subfolder) of the adapters the diffusers guide uses.
DEFAULT_ADAPTERS = {
    "sd": ("h94/IP-Adapter", "models", "ip-adapter_sd15.safetensors", "models/image_encoder"),
    "sdxl": ("h94/IP-Adapter", "sdxl_models", "ip-adapter_sdxl.safetensors", "sdxl_models/image_encoder"),
}
IP_ADAPTER_FAMILIES = tuple(DEFAULT_ADAPTERS)


@dataclass(frozen=True)
class AdapterFiles:
    """Where one IP-Adapter's weights and its image encoder are on disk."""

    weights: Path
    image_encoder: Path

    @property
    def label(self) -> str:
        """A short name for metadata."""
        return self.weights.stem


def locate(adapter: str, image_encoder: str, family: str, status=lambda m: None) -> AdapterFiles:
    """The files of the adapter the user named ("" = the family's default from the Hub cache or a download)."""
    if family not in IP_ADAPTER_FAMILIES:
        raise bad_input("Reference images work with SD 1.x and SDXL base models; remove the references to run "
                        "this model.")
    repo, sub, weight, encoder_sub = DEFAULT_ADAPTERS[family]
    name = adapter.strip()
    if name and (Path(name).expanduser().exists() or name.endswith((".safetensors", ".bin"))):
        weights = Path(name).expanduser()
        if weights.is_dir():
            candidates = sorted(weights.glob("*.safetensors"))
            if not candidates:
                raise model_missing(f"{weights} holds no IP-Adapter .safetensors file.")
            weights = candidates[0]
        if not weights.is_file():
            raise model_missing(f"The IP-Adapter {weights} does not exist.")
        if weights.suffix.lower() != ".safetensors":
            raise bad_input(f"{weights.name} is a pickle; use the .safetensors version of the IP-Adapter.")
        encoder = _local_encoder(image_encoder, weights)
        return AdapterFiles(weights, encoder or _hub_folder(repo, encoder_sub, status))
    if name:
        repo = name
    weights = _hub_file(repo, f"{sub}/{weight}", status)
    encoder = _local_encoder(image_encoder, weights) or _hub_folder(repo, encoder_sub, status)
    return AdapterFiles(weights, encoder)


def _local_encoder(image_encoder: str, weights: Path) -> Path | None:
    if image_encoder.strip():
        path = Path(image_encoder).expanduser()
        if path.is_dir():
            return path
        if "/" in image_encoder and not path.exists() and not image_encoder.startswith((".", "/", "~")):
            return _hub_folder(image_encoder, "", lambda m: None)
        raise model_missing(f"The image encoder folder {path} does not exist.")
    for candidate in (weights.parent / "image_encoder", weights.parent.parent / "image_encoder"):
        if (candidate / "config.json").is_file():
            return candidate
    return None


def _hub_file(repo: str, filename: str, status) -> Path:
    return Path(hub_file(repo, filename, noun="IP-Adapter",
                         advice="give the path of a downloaded IP-Adapter .safetensors file", status=status))


def _hub_folder(repo: str, subfolder: str, status) -> Path:
    config = _hub_file(repo, f"{subfolder}/config.json" if subfolder else "config.json", status)
    for name in ("model.safetensors",):
        _hub_file(repo, f"{subfolder}/{name}" if subfolder else name, status)
    return config.parent


def style_only_scale(unet, scale: float) -> dict:
    """The per-block scales of InstantStyle's style-only mode for this UNet (its first cross-attention up block)."""
    up_types = list(unet.config.up_block_types)
    index = next((i for i, kind in enumerate(up_types) if "CrossAttn" in kind), 0)
    layers = unet.config.layers_per_block
    count = (layers[-1 - index] if isinstance(layers, (list, tuple)) else layers) + 1
    weights = [0.0] * count
    weights[min(1, count - 1)] = float(scale)
    return {"up": {f"block_{index}": weights}}


class ReferenceAdapter:
    """The IP-Adapter loaded into one model (at most one at a time) and its image encoder."""

    def __init__(self):
        self.files: AdapterFiles | None = None
        self.encoder = None
        self.feature_extractor = None
        self.loads = 0

    def attach(self, pipe, files: AdapterFiles, dtype, device, status=lambda m: None) -> None:
        """Make ``files`` the adapter on ``pipe``'s UNet (loading only when it changed); give ``pipe`` the encoder."""
        if self.files != files:
            self.detach(pipe)
            from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

            status(f"Loading the IP-Adapter {files.label}…")
            try:
                encoder = CLIPVisionModelWithProjection.from_pretrained(str(files.image_encoder), dtype=dtype)
                self.encoder = encoder.to(device)
            except (OSError, ValueError) as exc:
                raise model_missing(f"The image encoder in {files.image_encoder} could not be loaded "
                                    f"({exc}).") from None
            size = self.encoder.config.image_size
            self.feature_extractor = CLIPImageProcessor(size=size, crop_size=size)
            pipe.register_modules(image_encoder=self.encoder, feature_extractor=self.feature_extractor)
            try:
                pipe.load_ip_adapter(str(files.weights.parent), subfolder="", weight_name=files.weights.name,
                                     image_encoder_folder=None)
            except (ValueError, KeyError, RuntimeError, OSError) as exc:
                self.detach(pipe)
                raise bad_input(f"The IP-Adapter {files.label} does not fit the loaded model ({exc}).") from None
            self.files = files
            self.loads += 1
        pipe.register_modules(image_encoder=self.encoder, feature_extractor=self.feature_extractor)

    def detach(self, pipe) -> None:
        """Take the adapter out of the UNet (its attention back as before) and drop the encoder."""
        if self.files is None:
            return
        pipe.register_modules(image_encoder=self.encoder, feature_extractor=self.feature_extractor)
        pipe.unload_ip_adapter()
        self.files = self.encoder = self.feature_extractor = None

    def prepare(self, pipe, params, family: str, status=lambda m: None) -> tuple[dict, list[tuple[str, str]]]:
        """The pipeline arguments for the run's references (none: the adapter is unloaded) and the A1111 fields
        that record them."""
        if not params.references:
            self.detach(pipe)
            return {}, []
        images = [load_image(path) for path in params.references]  # a bad file is refused before any loading
        files = locate(params.ip_adapter, params.image_encoder, family, status)
        unet = pipe.unet
        device = unet.device if unet.device.type != "meta" else "cpu"
        self.attach(pipe, files, unet.dtype, device, status)
        scale = float(params.reference_scale)
        pipe.set_ip_adapter_scale(style_only_scale(unet, scale) if params.reference_style_only else scale)
        mode = ", style only" if params.reference_style_only else ""
        fields = [("IP-Adapter", f"{files.label}, Weight: {scale:g}, Images: {len(images)}{mode}")]
        return {"ip_adapter_image": [images]}, fields
