"""Building an upscale of a history node: the request the worker runs and the record its result leaves.

Plain Python over the workspace (no widgets, no torch): the session calls ``upscale_request`` and hands the request
to the worker like any generation, so progress, previews, cancel and the history node work the same way.
"""

from __future__ import annotations

from desktop.core.upscale import DEFAULT_NOISE_LEVEL, UpscaleParams
from desktop.worker import UpscaleRequest


def upscale_request(workspace, node_id: str, kind: str, output_dir: str, history, *, prompt: str = "",
                    negative_prompt: str = "", seed: int | None = None, device: str = "auto",
                    noise_level: int = DEFAULT_NOISE_LEVEL, steps: int | None = None, vae_tiling: bool = False,
                    model: str = "") -> UpscaleRequest:
    """The request to upscale node ``node_id``; raises RestyleError (bad input) for a bad value.

    The node's own prompt guides the upscaler (it describes the picture); ``prompt`` is used for a picture
    that has none (an import). The ×2 upscale gets the node's latent cache, which it takes as is when it
    was made by the upscaler's VAE.
    """
    node = workspace.tree.get(node_id)
    params = UpscaleParams(
        kind=kind, image=str(workspace.image_path(node)),
        prompt=node.params.get("prompt") or prompt,
        negative_prompt=node.params.get("negative_prompt") or negative_prompt,
        steps=steps, noise_level=noise_level, seed=seed, model=model, device=device, vae_tiling=vae_tiling,
    ).validate()
    latents = workspace.latent_path(node)
    return UpscaleRequest(params, output_dir, source_latents=str(latents) if latents else None, history=history)
