"""Short human texts about history nodes, shared by the tree view and exported grids (no Qt)."""

from __future__ import annotations


def node_caption(node) -> str:
    """A one-line caption: prompt (or file name), strength and seed."""
    title, details = _caption_parts(node)
    return " · ".join([title, *details])


def row_caption(node, parent) -> str:
    """A history row's two lines: what it is (prompt or file name), then what changed from ``parent``,
    strength and seed. Rows of one chain often share a prompt's start, so it gets a line of its own."""
    title, details = _caption_parts(node, whole_prompt=True)  # (the view elides it to the row's width)
    changes = changes_from_parent(node, parent)
    if node.kind == "import":
        details = [f"picture {node.width}×{node.height}"]
    return f"{title}\n{' · '.join([changes, *details] if changes else details)}"


def _caption_parts(node, *, whole_prompt: bool = False) -> tuple[str, list[str]]:
    star = "★ " if node.starred else ""
    if node.kind == "import":
        return f"{star}{(node.source or node.image).replace(chr(92), '/').rsplit('/', 1)[-1]}", []
    if node.kind == "upscale" and node.upscale:
        return f"{star}{_upscale_label(node)}", [f"{node.width}×{node.height}", f"seed {node.seed}"]
    if not node.params and getattr(node, "damage", None):  # unreadable settings: say so, never "text-to-image"
        return f"{star}settings unreadable", [f"seed {node.seed}"]
    prompt = (node.params.get("prompt") or "text-to-image").strip().splitlines()[0]
    prompt = prompt if whole_prompt or len(prompt) <= 40 else prompt[:39] + "…"
    value = node.params.get("strength")  # a damaged record may lack it, or hold text
    strength = [f"{value:g}"] if node.params.get("init_image") and isinstance(value, (int, float)) else []
    replay = "↻ replay · " if getattr(node, "replay_of", None) else ""  # a replay branch says it is one
    return f"{star}{replay}{prompt}", [*strength, f"seed {node.seed}"]


def changes_from_parent(node, parent) -> str:
    """What a generation changed from the generation it came from: "strength 0.5→0.7 · +ink −pencil · model x"
    ('' when nothing differs, or for a root or an import's child)."""
    if parent is None or node.kind != "generation" or parent.kind != "generation":
        return ""
    before, after = parent.params, node.params
    if getattr(node, "damage", None) or getattr(parent, "damage", None):
        return ""  # unreadable settings: nothing known to compare
    parts = []
    old_strength, new_strength = before.get("strength"), after.get("strength")
    # Settings that lack a strength (an older record, a hand-edited one) have no change to show.
    if old_strength != new_strength and after.get("init_image") and _is_number(old_strength) \
            and _is_number(new_strength):
        parts.append(f"strength {old_strength:g}→{new_strength:g}")
    old, new = (set((p.get("prompt") or "").replace(",", " ").split()) for p in (before, after))
    words = [f"+{w}" for w in sorted(new - old)][:3] + [f"−{w}" for w in sorted(old - new)][:3]
    if words:
        parts.append(" ".join(words))
    if node.model != parent.model:
        parts.append(f"model {node.model.replace(chr(92), '/').rstrip('/').rsplit('/', 1)[-1]}")
    return " · ".join(parts)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def node_tooltip(node) -> str:
    """Prompt, model and the parameters that made a node."""
    if node.kind == "import":
        return f"Imported picture {node.width}×{node.height}\n{node.source or node.image}"
    p = node.params
    if getattr(node, "damage", None):
        return node.damage
    if node.kind == "upscale" and node.upscale:
        u = node.upscale
        lines = [
            f"{_upscale_label(node).capitalize()} of its parent, to {node.width}×{node.height}",
            f"Upscaler: {node.model}",
            f"Prompt: {p.get('prompt') or '(none)'}",
            f"Seed: {node.seed} · Steps: {u.get('steps')} · Guidance: {u.get('guidance_scale')}"
            + (f" · Noise level: {u.get('noise_level')}" if u.get("kind") == "x4" else ""),
        ]
        if u.get("vae_tiling"):
            lines.append("Decoded in tiles (VAE tiling)")
        if u.get("kind") == "x2":
            lines.append("From its parent's latents (no decode/encode)" if node.chain_mode == "latent"
                         else "From its parent's pixels")
        return "\n".join(lines)
    lines = [
        p.get("prompt") or "(no prompt)",
        f"Model: {node.model}",
        f"Strength: {p.get('strength')}" if p.get("init_image") else "Text-to-image",
        f"Seed: {node.seed} · Steps: {p.get('steps')} · Guidance: {p.get('guidance_scale')}",
        f"Size: {node.width}×{node.height}",
    ]
    if p.get("control_image"):
        controlnet = (p.get("controlnet") or "default").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        lines.append(f"Depth map via {controlnet}: weight {p.get('control_scale')}, "
                     f"steering {p.get('control_start')}–{p.get('control_end')} of the steps")
    if p.get("mask_image") or p.get("outpaint"):
        lines.append(_mask_line(p))
    if node.chain_mode:
        lines.append(f"Chained from its parent in {'latent space' if node.chain_mode == 'latent' else 'pixels'}")
    return "\n".join(lines)


def _mask_line(p: dict) -> str:
    """What a masked run restyled: the area, its padding and blur, and how far it outpainted."""
    parts = []
    if p.get("mask_image"):
        area = (f"only the masked area (padding {p.get('inpaint_padding')} px)" if p.get("inpaint_area") == "masked"
                else "the masked part of the whole picture")
        parts.append(f"Restyled {area}, mask blur {p.get('mask_blur')} px")
    if p.get("outpaint"):
        parts.append("outpainted by {} px (left, top, right, bottom)".format(", ".join(map(str, p["outpaint"]))))
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _upscale_label(node) -> str:
    return {"x2": "upscale ×2 latent", "x4": "super-resolution ×4"}.get(node.upscale.get("kind"), "upscale")


def import_name(node) -> str:
    """The file name an imported picture came with ("landscape.png"), never its hash-named copy."""
    return (node.source or node.image).replace("\\", "/").rsplit("/", 1)[-1]


def source_caption(tree, node_id: str) -> str:
    """What the canvas says about the picture the next run starts from, when it is a history node:
    "Restyling: landscape.png", "Restyling: result 3 of the chain from landscape.png"."""
    path = tree.path_to_root(node_id)
    node, root = path[-1], path[0]
    if node.kind == "import":
        return f"Restyling: {import_name(node)}"
    position = sum(1 for n in path if n.kind != "import")
    origin = f"the chain from {import_name(root)}" if root.kind == "import" else "a chain from text"
    what = "upscale" if node.kind == "upscale" else "result"
    return f"Restyling: {what} {position} of {origin}"
