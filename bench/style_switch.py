"""Switching LoRAs and samplers against loading the model, and the per-step cost of a LoRA fused or not.

    .venv/bin/python bench/style_switch.py [--size mid|tiny] [--steps 8] [--repeats 5]

Builds a random-weight SD 1.x model (``mid``: a UNet of about 90 M parameters with SD's 768-wide cross-attention
and a 4-layer 768-wide CLIP text encoder, so LoRA files have SD 1.5's shapes) and two rank-16 LoRAs in the
kohya layout, then prints:

- the model load (``Engine.load`` from the diffusers folder, a fresh engine each time);
- a LoRA's first load, a weight change, a swap between two loaded LoRAs, its removal (unload), the fuse;
- a sampler switch (first build and cached);
- the time per denoising step without LoRA, with one unfused, and fused.

Targets (issue 14): LoRA switch ≤ 10 % of a model load; sampler switch ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import cpu_busy, cpu_model, median, setup_env, temp_dir


def build_model(folder: Path, size: str) -> Path:
    """A random SD 1.x pipeline saved at ``folder`` (``tiny`` is the tests' model)."""
    if size == "tiny":
        from desktop.testing.tiny import build_tiny_sd

        return build_tiny_sd(folder)
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    from desktop.testing.tiny import offline_clip_tokenizer, tiny_sd_components

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(128, 256, 384, 384), layers_per_block=2, sample_size=32, cross_attention_dim=768,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3, attention_head_dim=8, norm_num_groups=32)
    text = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                        num_hidden_layers=4, vocab_size=1000, bos_token_id=0, eos_token_id=2,
                                        pad_token_id=1))
    vae: AutoencoderKL = tiny_sd_components(0)["vae"]
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text, tokenizer=offline_clip_tokenizer(),
                                   scheduler=PNDMScheduler(skip_prk_steps=True, steps_offset=1), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    print(f"model: UNet {sum(p.numel() for p in unet.parameters()) / 1e6:.0f} M parameters, text encoder "
          f"{sum(p.numel() for p in text.parameters()) / 1e6:.0f} M", flush=True)
    return folder


def timed(function, repeats: int) -> float:
    """The median wall time of ``function()`` over ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("mid", "tiny"), default="mid")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resolution", type=int, default=256)
    args = parser.parse_args()
    setup_env()
    import torch

    from desktop.core.params import GenerationParams
    from desktop.engine.runner import Engine
    from desktop.engine.styles import StyleFolders
    from desktop.testing.tiny_styles import build_tiny_lora

    print(f"CPU: {cpu_model()}, torch threads {torch.get_num_threads()}, other load {cpu_busy():.2f} cores")
    with temp_dir() as tmp:
        root = Path(tmp)
        model = build_model(root / "model", args.size)
        loras = root / "loras"
        for name, seed in (("ink", 1), ("pastel", 2)):
            build_tiny_lora(loras / f"{name}.safetensors", model, fmt="kohya", seed=seed, rank=16, scale=0.05)
        print(f"LoRA file: {(loras / 'ink.safetensors').stat().st_size / 1e6:.1f} MB (rank 16, attention of UNet "
              "and text encoder)")

        load = timed(lambda: Engine().load(str(model), "cpu"), args.repeats)
        engine = Engine()
        engine.style_folders = StyleFolders(loras=(str(loras),))
        base = GenerationParams(model=str(model), prompt="a harbour at dusk", steps=args.steps, seed=1,
                                width=args.resolution, height=args.resolution, device="cpu")
        engine.generate(base.replace(steps=1))  # warm: the pipeline exists
        state, pipe = engine._loaded.styles, engine._loaded.img2img
        folders = engine.style_folders

        def prepare(**changes):
            state.prepare_run(pipe, base.replace(**changes), folders)

        def first_load():
            prepare(loras=(("ink", 1.0),))
            prepare(loras=())  # unload again, so the next call reads the file again

        first = timed(first_load, args.repeats)
        unload_times, weight_times, swap_times, fuse_times = [], [], [], []
        for i in range(args.repeats):
            prepare(loras=(("ink", 1.0), ("pastel", 0.0)))
            started = time.perf_counter()
            prepare(loras=(("ink", 0.5 + i / 10), ("pastel", 0.0)))
            weight_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            prepare(loras=(("ink", 0.0), ("pastel", 0.8)))
            swap_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            prepare(loras=(("ink", 0.0), ("pastel", 0.8)))  # the same twice: fused
            fuse_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            prepare(loras=())
            unload_times.append(time.perf_counter() - started)
        state.schedulers._built.clear()
        sampler_first = timed(lambda: (state.schedulers._built.clear(),
                                       prepare(sampler="DPM++ 2M", schedule="karras")), args.repeats)
        sampler_cached = timed(lambda: (prepare(sampler="Euler a"), prepare(sampler="DPM++ 2M", schedule="karras")),
                               args.repeats) / 2

        def step_time(**changes) -> float:
            marks = []
            engine.generate(base.replace(**changes), on_step=lambda s: marks.append(s.elapsed))
            return (marks[-1] - marks[0]) / (len(marks) - 1)

        plain = median([step_time() for _ in range(3)])
        unfused, fused = [], []
        for i in range(3):
            weights = (("ink", 0.9 - i / 10),)  # a new weight: the first run is unfused, the second fused
            unfused.append(step_time(loras=weights))
            fused.append(step_time(loras=weights))
    ms = 1000
    print(f"\nmodel load (fresh engine, from disk)     {load * ms:8.1f} ms")
    print(f"LoRA first load (file → adapters)         {first / 2 * ms:8.1f} ms  ({first / 2 / load:.1%} of a load; "
          "the median of load+unload halved)")
    print(f"LoRA weight change (set_adapters)         {median(weight_times) * ms:8.1f} ms  "
          f"({median(weight_times) / load:.1%} of a load)")
    print(f"LoRA swap between two loaded ones         {median(swap_times) * ms:8.1f} ms  "
          f"({median(swap_times) / load:.1%} of a load)")
    print(f"same LoRAs again: fuse into the weights   {median(fuse_times) * ms:8.1f} ms")
    print(f"LoRA removed (unfuse + unload)            {median(unload_times) * ms:8.1f} ms")
    print(f"sampler switch, first build               {sampler_first * ms:8.1f} ms")
    print(f"sampler switch, cached                    {sampler_cached * ms:8.1f} ms")
    print(f"\nper step at {args.resolution}² ({args.steps} steps): no LoRA {plain * ms:.1f} ms, "
          f"LoRA unfused {median(unfused) * ms:.1f} ms ({median(unfused) / plain - 1:+.1%}), "
          f"fused {median(fused) * ms:.1f} ms ({median(fused) / plain - 1:+.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
