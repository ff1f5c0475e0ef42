"""What a step preview costs: latent colours against TAESD at 512 and 1024 px, on the CPU (and CUDA if present).

TAESD here has madebyollin/taesd's own architecture (AutoencoderTiny's defaults, 1.2 M decoder parameters)
with random weights: the cost of a decode does not depend on the weights. Prints ms per preview.

    .venv/bin/python bench/taesd_preview.py [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time


def _time(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import torch
    from diffusers import AutoencoderTiny

    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for device in devices:
        dtype = torch.float16 if device == "cuda" else torch.float32
        taesd = AutoencoderTiny().to(device=device, dtype=dtype).eval()
        for pixels in (512, 1024):
            colours, detailed = _preview_costs(taesd, device, dtype, pixels, args.repeat)
            print(f"{device} {pixels}×{pixels}: latent colours {colours:.2f} ms, TAESD {detailed:.0f} ms per preview")


def _preview_costs(taesd, device: str, dtype, pixels: int, repeat: int) -> tuple[float, float]:
    """Milliseconds per preview of a ``pixels``-square picture: latent colours, then TAESD."""
    import torch

    from desktop.engine.preview_decoder import decode
    from desktop.engine.previews import latent_preview

    latents = torch.randn(1, 4, pixels // 8, pixels // 8, device=device, dtype=dtype)

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    colours = _time(lambda: (latent_preview(latents, "sd"), sync()), repeat * 5)
    detailed = _time(lambda: (decode(taesd, latents), sync()), repeat)
    return colours, detailed

if __name__ == "__main__":
    main()
