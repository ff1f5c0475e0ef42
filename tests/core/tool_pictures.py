"""Pictures written the way other tools write them, so the tests need no one else's images.

Each writer follows the tool's own format as sd-parsers 0.6 reads it: AUTOMATIC1111's `parameters` chunk,
EXIF UserComment (piexif's "UNICODE" + UTF-16-BE) and stealth alpha bits; ComfyUI's `prompt` graph and
`workflow` links; Fooocus' JSON `parameters` with `fooocus_scheme`; InvokeAI's `invokeai_metadata`,
`sd-metadata` and `Dream` chunks; NovelAI's Description/Software/Source/Comment chunks.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

SIZE = (64, 48)


def _picture(mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(0)
    channels = 4 if mode == "RGBA" else 3
    array = rng.integers(0, 255, (SIZE[1], SIZE[0], channels), dtype=np.uint8)
    if channels == 4:
        array[:, :, 3] = 255
    return Image.fromarray(array, mode)


def png_with_chunks(path: Path, chunks: dict[str, str], mode: str = "RGB") -> Path:
    """A PNG carrying these text chunks."""
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    _picture(mode).save(path, format="PNG", pnginfo=info)
    return path


def a1111_png(path: Path, text: str) -> Path:
    """AUTOMATIC1111's PNG: the text in a `parameters` chunk."""
    return png_with_chunks(path, {"parameters": text})


def a1111_exif(path: Path, text: str, fmt: str) -> Path:
    """AUTOMATIC1111's JPEG/WebP: the text in EXIF UserComment, as piexif writes it."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + text.encode("utf-16-be")
    _picture().save(path, format=fmt, exif=exif.tobytes(), quality=90)
    return path


def a1111_stealth(path: Path, text: str, size=SIZE) -> Path:
    """AUTOMATIC1111's stealth PNG: gzip'd text in the alpha channel's low bits, column by column."""
    payload = gzip.compress(text.encode("utf-8"))
    data = b"stealth_pngcomp" + (len(payload) * 8).to_bytes(4, "big") + payload
    bits = np.unpackbits(np.frombuffer(data, np.uint8))
    rgba = np.array(_picture("RGBA").resize(size))
    alpha = rgba[:, :, 3].T.copy().ravel()
    assert len(bits) <= alpha.size, "picture too small for the text"
    alpha[: len(bits)] = (alpha[: len(bits)] & 0xFE) | bits
    rgba[:, :, 3] = alpha.reshape(size[0], size[1]).T
    Image.fromarray(rgba, "RGBA").save(path, format="PNG")
    return path


def comfy_workflow(prompt: dict) -> dict:
    """The UI workflow's links for a prompt graph: [link id, from node, slot, to node, slot, type]."""
    links = []
    for target, node in prompt.items():
        for name, value in node["inputs"].items():
            if isinstance(value, list):
                kind = {"clip": "CLIP", "model": "MODEL", "vae": "VAE", "positive": "CONDITIONING",
                        "negative": "CONDITIONING"}.get(name, "LATENT")
                links.append([len(links) + 1, int(value[0]), value[1], int(target), 0, kind])
    return {"last_node_id": max(int(k) for k in prompt), "last_link_id": len(links), "nodes": [], "links": links}


def comfy_graph(*, positive: str, negative: str, seed: int, steps: int, cfg: float, sampler: str,
                scheduler: str, width: int, height: int, ckpt: str, loras=(), hires: bool = False,
                img2img_denoise: float | None = None) -> dict:
    """A ComfyUI prompt graph: checkpoint → LoRAs → KSampler fed by two CLIPTextEncodes and a latent."""
    graph: dict = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": positive, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": negative, "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    }
    model = ["4", 0]
    for index, (name, weight) in enumerate(loras):
        node = str(20 + index)
        graph[node] = {"class_type": "LoraLoader", "inputs": {"lora_name": name, "strength_model": weight,
                                                               "strength_clip": weight, "model": model,
                                                               "clip": ["4", 1]}}
        model = [node, 0]
    if img2img_denoise is None:
        graph["5"] = {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height, "batch_size": 1}}
    else:
        graph["10"] = {"class_type": "LoadImage", "inputs": {"image": "photo.png", "upload": "image"}}
        graph["5"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}}
    # The second pass first, so the reader cannot rely on the order of the nodes.
    if hires:
        graph["11"] = {"class_type": "LatentUpscale", "inputs": {"upscale_method": "nearest-exact", "width": width * 2,
                                                                 "height": height * 2, "crop": "disabled",
                                                                 "samples": ["3", 0]}}
        graph["12"] = {"class_type": "KSampler", "inputs": {"seed": 99, "steps": 7, "cfg": 5.0, "sampler_name": "euler",
                                                            "scheduler": "normal", "denoise": 0.5, "model": model,
                                                            "positive": ["6", 0], "negative": ["7", 0],
                                                            "latent_image": ["11", 0]}}
    graph["3"] = {"class_type": "KSampler", "inputs": {
        "seed": seed, "steps": steps, "cfg": cfg, "sampler_name": sampler, "scheduler": scheduler,
        "denoise": 1.0 if img2img_denoise is None else img2img_denoise, "model": model, "positive": ["6", 0],
        "negative": ["7", 0], "latent_image": ["5", 0]}}
    return graph


def comfyui_png(path: Path, graph: dict, *, with_workflow: bool = True) -> Path:
    """ComfyUI's PNG: the prompt graph, and the UI workflow unless saved through the API."""
    chunks = {"prompt": json.dumps(graph)}
    if with_workflow:
        chunks["workflow"] = json.dumps(comfy_workflow(graph))
    return png_with_chunks(path, chunks)


def fooocus_png(path: Path, **fields) -> Path:
    """Fooocus' PNG (its own scheme): sorted JSON in `parameters`, `fooocus_scheme` = fooocus."""
    return png_with_chunks(path, {"parameters": json.dumps(dict(sorted(fields.items()))), "fooocus_scheme": "fooocus"})


def novelai_png(path: Path, *, prompt: str, comment: dict, source: str = "Stable Diffusion XL C1E1DE52") -> Path:
    """NovelAI's PNG: the prompt in Description, the settings as JSON in Comment."""
    return png_with_chunks(path, {"Title": "AI generated image", "Description": prompt, "Software": "NovelAI",
                                  "Source": source, "Comment": json.dumps(comment)})
