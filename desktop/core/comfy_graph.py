"""ComfyUI's prompt graph (the `prompt` chunk of its PNGs): the first sampler and what feeds it.

The graph maps node ids to ``{"class_type": …, "inputs": {name: value or [node id, output slot]}}``. One PNG
carries the whole graph even when it has several samplers (a hires-fix second pass, several outputs), so the
settings that remake it are those of the first pass: the sampler no other sampler feeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Inputs that carry text into a conditioning node (CLIPTextEncodeSDXL has text_g and text_l).
_TEXT_INPUTS = ("text", "text_g", "text_l", "prompt", "string", "value")
# Links a prompt walk never follows: they lead to models, pictures and latents, not to text.
_NOT_TEXT = {"clip", "model", "vae", "clip_vision", "control_net", "image", "pixels", "mask", "samples",
             "latent_image", "upscale_model", "style_model", "clip_vision_output", "ipadapter"}
_LATENT_LINKS = ("latent_image", "samples", "latent", "pixels", "image")
_MAX_NODES = 10_000  # a graph bigger than any real workflow is not walked (a hostile file stays cheap)


@dataclass
class ComfySettings:
    """What the first sampler of a ComfyUI graph used."""

    sampler_id: str
    positive: str = ""
    negative: str = ""
    seed: int | None = None
    steps: int | None = None
    cfg: float | None = None
    sampler_name: str = ""
    scheduler: str = ""
    denoise: float | None = None
    width: int | None = None
    height: int | None = None
    from_image: bool = False  # the latent came from an encoded picture (image to image)
    checkpoint: str = ""
    loras: list[tuple[str, float]] = field(default_factory=list)
    unused: list[tuple[str, str]] = field(default_factory=list)


def _is_link(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int))


def is_sampler(node: object) -> bool:
    """A node that samples: it has a sampler name, steps and CFG (sd-parsers' rule)."""
    inputs = node.get("inputs") if isinstance(node, dict) else None
    return isinstance(inputs, dict) and {"sampler_name", "steps", "cfg"} <= inputs.keys()


class ComfyGraph:
    """A prompt graph with the walks the settings need."""

    def __init__(self, prompt: dict):
        self.nodes = {str(k): v for k, v in list(prompt.items())[:_MAX_NODES] if isinstance(v, dict)}

    def inputs(self, node_id: str) -> dict:
        """The inputs of a node ({} for a missing or malformed one)."""
        inputs = self.nodes.get(node_id, {}).get("inputs")
        return inputs if isinstance(inputs, dict) else {}

    def class_type(self, node_id: str) -> str:
        """The node's class ("" when missing)."""
        return str(self.nodes.get(node_id, {}).get("class_type", ""))

    def linked(self, node_id: str, name: str) -> str | None:
        """The id of the node feeding input ``name``, or None."""
        value = self.inputs(node_id).get(name)
        return str(value[0]) if _is_link(value) else None

    def _upstream(self, start: str | None, follow) -> list[str]:
        """Node ids reachable backwards from ``start`` through inputs ``follow(name)`` accepts, nearest first."""
        seen: list[str] = []
        queue = [start] if start else []
        while queue and len(seen) < _MAX_NODES:
            node_id = queue.pop(0)
            if node_id in seen or node_id not in self.nodes:
                continue
            seen.append(node_id)
            queue += [str(v[0]) for k, v in self.inputs(node_id).items() if _is_link(v) and follow(k)]
        return seen

    def first_sampler(self, candidates: list[str]) -> str | None:
        """The sampler among ``candidates`` that no other sampler feeds (the lowest id when several)."""
        samplers = set(candidates)
        roots = []
        for node_id in candidates:
            fed = self._upstream(self.linked(node_id, "latent_image"), lambda name: name in _LATENT_LINKS)
            if not samplers.intersection(fed):
                roots.append(node_id)
        roots = roots or list(candidates)
        return min(roots, key=lambda i: (not i.isdigit(), int(i) if i.isdigit() else 0, i)) if roots else None

    def texts(self, start: str | None) -> list[str]:
        """The prompt texts feeding a conditioning input, nearest first, each once."""
        found: list[str] = []
        queue = [start] if start else []
        seen: set[str] = set()
        while queue and len(seen) < _MAX_NODES:
            node_id = queue.pop(0)
            if node_id in seen:
                continue
            seen.add(node_id)
            inputs = self.inputs(node_id)
            texts = [inputs[k].strip() for k in _TEXT_INPUTS if isinstance(inputs.get(k), str)]
            if texts:
                found += [t for t in dict.fromkeys(texts) if t and t not in found]
                continue  # a text node's own inputs are clips and settings
            queue += [str(v[0]) for k, v in inputs.items() if _is_link(v) and k not in _NOT_TEXT]
        return found

    def number(self, node_id: str, names: tuple[str, ...], kind: type):
        """The first of ``names`` as a ``kind``, following a link to a primitive node (a seed node) once."""
        inputs = self.inputs(node_id)
        for name in names:
            value = inputs.get(name)
            if _is_link(value):
                source = self.inputs(str(value[0]))
                value = next((source[k] for k in ("seed", "noise_seed", "value", "int", "float")
                              if isinstance(source.get(k), (int, float))), None)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if kind is int and float(value).is_integer():
                return int(value)
            if kind is float:
                return float(value)
        return None

    def settings(self, sampler_id: str) -> ComfySettings:
        """Everything the sampler ``sampler_id`` used."""
        inputs = self.inputs(sampler_id)
        out = ComfySettings(sampler_id)
        out.positive = ", ".join(self.texts(self.linked(sampler_id, "positive")))
        out.negative = ", ".join(self.texts(self.linked(sampler_id, "negative")))
        out.seed = self.number(sampler_id, ("seed", "noise_seed"), int)
        out.steps = self.number(sampler_id, ("steps",), int)
        out.cfg = self.number(sampler_id, ("cfg",), float)
        out.denoise = self.number(sampler_id, ("denoise",), float)
        out.sampler_name = str(inputs.get("sampler_name", ""))
        out.scheduler = str(inputs.get("scheduler", ""))
        self._read_model(sampler_id, out)
        self._read_latent(sampler_id, out)
        for name in ("start_at_step", "end_at_step"):
            value = inputs.get(name)
            if isinstance(value, int) and not (name == "start_at_step" and value == 0) and value < 10_000:
                out.unused.append((name.replace("_", " "), str(value)))
        return out

    def _read_model(self, sampler_id: str, out: ComfySettings) -> None:
        node_id = self.linked(sampler_id, "model")
        seen = set()
        while node_id and node_id not in seen:
            seen.add(node_id)
            inputs = self.inputs(node_id)
            for key in ("ckpt_name", "unet_name"):
                if isinstance(inputs.get(key), str):
                    out.checkpoint = inputs[key]
                    return
            if isinstance(inputs.get("lora_name"), str):
                weight = inputs.get("strength_model", inputs.get("strength", 1.0))
                out.loras.insert(0, (inputs["lora_name"], float(weight) if isinstance(weight, (int, float)) else 1.0))
            elif node_id in self.nodes:
                out.unused.append(("model patch", self.class_type(node_id)))
            node_id = self.linked(node_id, "model")

    def _read_latent(self, sampler_id: str, out: ComfySettings) -> None:
        for node_id in self._upstream(self.linked(sampler_id, "latent_image"), lambda n: n in _LATENT_LINKS):
            inputs = self.inputs(node_id)
            if "VAEEncode" in self.class_type(node_id) or self.class_type(node_id) == "LoadImage":
                out.from_image = True
                return
            width, height = inputs.get("width"), inputs.get("height")
            if isinstance(width, int) and isinstance(height, int) and not _is_link(inputs.get("samples")):
                out.width, out.height = width, height
                return
