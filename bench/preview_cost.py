"""Preview cost per step: the latent → RGB map for SD/SDXL (4 channels) against SD 3 and FLUX (16 channels; FLUX's
packed sequence unpacked first), at 1024 px (128 × 128 latents), as the runner makes them on the CPU.

A preview must stay a rounding error next to a denoising step (a FLUX.1 dev step at 1024 px is about a second on
a 4090, an SDXL step about 0.1 s), so the figure to read is the milliseconds per preview.

    .venv/bin/python bench/preview_cost.py [--repeats 50]
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import median, setup_env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    setup_env()
    import torch

    from desktop.engine.previews import latent_preview

    class Packed:  # what flow.unpacked needs of a FLUX pipeline: its unpacking and the VAE's scale factor
        vae_scale_factor = 8

        @staticmethod
        def _unpack_latents(latents, height, width, vae_scale_factor):
            from diffusers import FluxPipeline

            return FluxPipeline._unpack_latents(latents, height, width, vae_scale_factor)

    from desktop.engine.flow import unpacked

    torch.manual_seed(0)
    cases = {
        "sd (4 × 128 × 128)": ("sd", lambda: torch.randn(1, 4, 128, 128)),
        "sdxl (4 × 128 × 128)": ("sdxl", lambda: torch.randn(1, 4, 128, 128)),
        "sd3 (16 × 128 × 128)": ("sd3", lambda: torch.randn(1, 16, 128, 128)),
        "flux (4096 × 64 packed)": ("flux", lambda: unpacked(Packed, torch.randn(1, 4096, 64), 1024, 1024)),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {args.repeats} previews")
    for label, (family, make) in cases.items():
        latent_preview(make(), family)  # warm-up
        times = []
        for _ in range(args.repeats):
            latents = make() if family != "flux" else torch.randn(1, 4096, 64)
            started = time.perf_counter()
            held = unpacked(Packed, latents, 1024, 1024) if family == "flux" else latents
            preview = latent_preview(held, family)
            times.append(time.perf_counter() - started)
        print(f"  {label}: {median(times) * 1000:.2f} ms per preview → {preview.shape[1]}×{preview.shape[0]} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
