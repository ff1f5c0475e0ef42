"""GPU throughput: the app's worker against a bare diffusers call, and the app's fastest setting against eager fp16.

Speed does not depend on the weights' values, so this builds full-size SD 1.5 and SDXL pipelines from their
published configurations (written inline below: there is no Hub here) with random weights, saves them in
diffusers format in a temp folder (about 2 and 7 GB in fp16) and loads them back through ``from_pretrained``
as the app does. Two comparisons per model, text-to-image at the model's natural size (512 / 1024 px), same
prompt, guidance 7.5, step count and seed on both sides:

1. overhead: the bare ``AutoPipelineForText2Image`` call in fp16 (output a PIL image, timed around the call
   with ``torch.cuda.synchronize()`` on both sides) against the app's worker path: a ``WorkerHost`` with the
   model preloaded, a ``GenerateRequest`` with a latent preview QImage every step and the PNG saved, timed from
   ``submit`` to ``finished`` arriving on the main thread. Target: app it/s ≥ 0.98 × bare it/s.
2. fastest: the app's worker with its fastest setting (fp16, channels-last, torch.compile of the UNet) against
   the same bare eager fp16 call. The compile warm-up runs are excluded from the figure and reported on their
   own. Target: ≥ 1.45× (published A100 figures for SD 1.5: 31.4 it/s with SDPA → 47.0 it/s compiled with
   channels-last).

it/s here is steps / wall time of the whole call (text encoding and VAE decode included), the same measure on
both sides; the ratios are what the targets judge. One warm-up of each, then REPEATS alternating pairs;
medians. On a machine without CUDA it says so and measures the tiny random model on the CPU instead (fp32;
the app does not compile on the CPU, so the "fastest" setting there is fp32 + channels-last).

    .venv/bin/python bench/gpu_throughput.py [--models sd15,sdxl,flux-dev,sd35-large] [--steps 30]
                                             [--repeats 3] [--device auto|cuda|cpu] [--quantized] [--check-configs]

``--check-configs`` only builds the full-size modules on the meta device and checks their parameter counts
against the published ones (SD 1.5 UNet 859.5 M, SDXL UNet 2567.5 M, FLUX.1 dev transformer 11.9 B, SD 3.5
Large transformer 8.1 B, T5 XXL encoder 4.76 B, …): seconds, no memory, no GPU.

FLUX.1 dev and SD 3.5 Large (bench/flow_configs.py) run in bf16 (FLUX overflows in fp16), about 34 and 28 GB
on disk while their turn lasts; with ``--quantized`` each is measured again with the app's bitsandbytes 4-bit
setting against the same quantization in a bare call (skipped, with a line, where bitsandbytes is missing).
On the CPU ``--models tiny-flux`` runs the same path on the tiny random FLUX.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import (
    OtherLoad,
    build_tiny,
    median,
    print_machine,
    setup_env,
    temp_dir,
    wait_for,
)
from flow_configs import PUBLISHED_PARAMS_M as FLOW_PUBLISHED_M
from flow_configs import TOLERANCE, counted_modules

OVERHEAD_TARGET = 0.98
FASTEST_TARGET = 1.45
PROMPT = "a watercolour painting of a lighthouse at dusk"
SEED = 1234

# --- the published configurations (stable-diffusion-v1-5, stabilityai/stable-diffusion-xl-base-1.0) ----------
SD15_UNET = dict(
    act_fn="silu", attention_head_dim=8, block_out_channels=[320, 640, 1280, 1280], center_input_sample=False,
    cross_attention_dim=768,
    down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    downsample_padding=1, flip_sin_to_cos=True, freq_shift=0, in_channels=4, layers_per_block=2,
    mid_block_scale_factor=1, norm_eps=1e-5, norm_num_groups=32, out_channels=4, sample_size=64,
    up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
)
SD_VAE = dict(
    act_fn="silu", block_out_channels=[128, 256, 512, 512], down_block_types=["DownEncoderBlock2D"] * 4,
    in_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32, out_channels=3, sample_size=512,
    up_block_types=["UpDecoderBlock2D"] * 4,
)
SDXL_VAE = dict(SD_VAE, sample_size=1024, scaling_factor=0.13025, force_upcast=True)
CLIP_L = dict(  # openai/clip-vit-large-patch14's text tower: SD 1.5's text encoder and SDXL's first
    hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
    max_position_embeddings=77, vocab_size=49408, hidden_act="quick_gelu", projection_dim=768,
    bos_token_id=0, eos_token_id=2, pad_token_id=1,
)
CLIP_BIG_G = dict(  # SDXL's second text encoder (with projection)
    hidden_size=1280, intermediate_size=5120, num_attention_heads=20, num_hidden_layers=32,
    max_position_embeddings=77, vocab_size=49408, hidden_act="gelu", projection_dim=1280,
    bos_token_id=0, eos_token_id=2, pad_token_id=1,
)
SDXL_UNET = dict(
    act_fn="silu", addition_embed_type="text_time", addition_embed_type_num_heads=64, addition_time_embed_dim=256,
    attention_head_dim=[5, 10, 20], block_out_channels=[320, 640, 1280], center_input_sample=False,
    cross_attention_dim=2048, down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    downsample_padding=1, flip_sin_to_cos=True, freq_shift=0, in_channels=4, layers_per_block=2,
    mid_block_scale_factor=1, norm_eps=1e-5, norm_num_groups=32, out_channels=4,
    projection_class_embeddings_input_dim=2816, sample_size=128, transformer_layers_per_block=[1, 2, 10],
    up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"], use_linear_projection=True,
)
SD15_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                      set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, clip_sample=False)
SDXL_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                      steps_offset=1, timestep_spacing="leading", prediction_type="epsilon",
                      interpolation_type="linear", use_karras_sigmas=False)
# Parameter counts of the published checkpoints, in millions (checked by --check-configs).
PUBLISHED_PARAMS_M = {"sd15 unet": 859.5, "sdxl unet": 2567.5, "vae": 83.7, "clip-l": 123.1, "clip-bigg": 694.7}
NATURAL_SIZE = {"sd15": 512, "sdxl": 1024, "tiny": 64, "flux-dev": 1024, "sd35-large": 1024, "tiny-flux": 64}
FLOW_MODELS = ("flux-dev", "sd35-large")  # transformers over 16-channel latents, run in bf16


def _modules(name: str):
    """The full-size random modules of ``name`` ("sd15" or "sdxl"), built on the current default device."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    if name == "sd15":
        return dict(unet=UNet2DConditionModel(**SD15_UNET), vae=AutoencoderKL(**SD_VAE),
                    text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L)))
    return dict(unet=UNet2DConditionModel(**SDXL_UNET), vae=AutoencoderKL(**SDXL_VAE),
                text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L)),
                text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIG_G)))


def check_configs() -> bool:
    """Build every full-size module on the meta device and compare parameter counts with the published ones."""
    import torch

    ok = True
    with torch.device("meta"):
        counts = {}
        for name in ("sd15", "sdxl"):
            modules = _modules(name)
            counts[f"{name} unet"] = modules["unet"]
            counts["vae"] = modules["vae"]
            counts["clip-l"] = modules["text_encoder"]
            if "text_encoder_2" in modules:
                counts["clip-bigg"] = modules["text_encoder_2"]
    published = dict(PUBLISHED_PARAMS_M)
    counts.update(counted_modules())
    published.update(FLOW_PUBLISHED_M)
    for key, module in counts.items():
        millions = sum(p.numel() for p in module.parameters()) / 1e6
        match = abs(millions - published[key]) / published[key] < TOLERANCE.get(key, 0.005)
        ok &= match
        print(f"{key}: {millions:.1f} M parameters (published {published[key]} M): "
              f"{'matches' if match else 'DIFFERS'}")
    return ok


def build_full_size(name: str, folder: Path, device: str) -> Path:
    """Save a full-size random-weight ``name`` pipeline in fp16 at ``folder`` (built on ``device``: fast init)."""
    import torch
    from diffusers import (
        EulerDiscreteScheduler,
        PNDMScheduler,
        StableDiffusionPipeline,
        StableDiffusionXLPipeline,
    )

    from desktop.testing.tiny import offline_clip_tokenizer

    torch.manual_seed(0)
    if name in FLOW_MODELS:
        from flow_configs import modules as flow_modules
        from flow_configs import pipeline as flow_pipeline

        with torch.device(device):
            modules = {k: v.to(torch.bfloat16) for k, v in flow_modules(name).items()}
        flow_pipeline(name, modules).save_pretrained(folder, safe_serialization=True)
        del modules
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        return folder
    with torch.device(device):
        modules = _modules(name)
    modules = {k: v.to(torch.float16) for k, v in modules.items()}
    if name == "sd15":
        pipe = StableDiffusionPipeline(**modules, tokenizer=offline_clip_tokenizer(),
                                       scheduler=PNDMScheduler(**SD15_SCHEDULER), safety_checker=None,
                                       feature_extractor=None, requires_safety_checker=False)
    else:
        pipe = StableDiffusionXLPipeline(**modules, tokenizer=offline_clip_tokenizer(),
                                         tokenizer_2=offline_clip_tokenizer(),
                                         scheduler=EulerDiscreteScheduler(**SDXL_SCHEDULER))
    pipe.save_pretrained(folder, safe_serialization=True)
    del pipe, modules
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return folder


# --- timing ----------------------------------------------------------------------------------------------------
COMPILE_TIMEOUT_S = 1800.0  # a first compiled run of the SDXL UNet can take many minutes


class Bench:
    """One model: the bare pipeline and the app's worker, both holding it on ``device``."""

    def __init__(self, folder: Path, device: str, dtype: str, size: int, steps: int, out: Path,
                 quantization: str = "none"):
        import torch
        from diffusers import AutoPipelineForText2Image

        from desktop.core.params import GenerationParams
        from desktop.core.runtime import RuntimeSettings
        from desktop.worker import LoadModelRequest, WorkerHost

        self.torch, self.device, self.steps, self.out = torch, device, steps, out
        torch_dtype = getattr(torch, {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}[dtype])
        extra = {}
        if quantization != "none":  # the bare side quantizes exactly as the app's setting does
            import json

            from desktop.engine.flow_files import quantization_config

            index = json.loads((Path(folder) / "model_index.json").read_text())
            extra["quantization_config"] = quantization_config(quantization, index, torch_dtype)
        self.pipe = AutoPipelineForText2Image.from_pretrained(str(folder), dtype=torch_dtype, local_files_only=True,
                                                              **extra)
        if quantization == "none":
            self.pipe.to(device)
        self.pipe.set_progress_bar_config(disable=True)
        self.host = WorkerHost(log_path=str(out / "bench.log"))
        self.previews: list[int] = []
        self.preview_counts: list[int] = []
        self.host.worker.preview.connect(lambda image, step, total: self.previews.append(step))
        self.runtime = RuntimeSettings(device=device, dtype=dtype, quantization=quantization)
        self.host.submit(LoadModelRequest(str(folder), device, runtime=self.runtime))
        (info,) = wait_for(self.host.worker.model_ready, self.host.worker.failed, COMPILE_TIMEOUT_S)
        print(f"  app loaded {info.display_name}: {info.pipeline_class} on {info.device} ({info.dtype})")
        self.params = GenerationParams(model=str(folder), prompt=PROMPT, guidance_scale=7.5, steps=steps, seed=SEED,
                                       width=size, height=size, device=device)
        self.size = size

    def sync(self) -> None:
        if self.device.startswith("cuda"):
            self.torch.cuda.synchronize()

    def bare(self) -> float:
        """Seconds for one bare pipeline call (PIL output), synchronised on both ends."""
        self.sync()
        started = time.perf_counter()
        self.pipe(prompt=PROMPT, num_inference_steps=self.steps, guidance_scale=7.5, height=self.size,
                  width=self.size, generator=self.torch.Generator("cpu").manual_seed(SEED))
        self.sync()
        return time.perf_counter() - started

    def app(self, runtime=None):
        """Seconds from submit to ``finished`` for one run through the worker, and the result."""
        from desktop.worker import GenerateRequest

        self.previews.clear()
        self.sync()
        started = time.perf_counter()
        self.host.submit(GenerateRequest(self.params, str(self.out), runtime=runtime or self.runtime))
        (result,) = wait_for(self.host.worker.finished, self.host.worker.failed, COMPILE_TIMEOUT_S)
        elapsed = time.perf_counter() - started
        # On CUDA previews arrive a step or two late (never waited for), so the last ones may be left out.
        assert Path(result.output_path).is_file(), "PNG missing"
        assert result.steps_run - 4 <= len(self.previews) <= result.steps_run, f"{len(self.previews)} previews"
        self.preview_counts.append(len(self.previews))
        if result.notes:
            print(f"  note: {' '.join(result.notes)}")
        return elapsed, result

    def close(self) -> None:
        self.host.shutdown()
        del self.pipe
        if self.device.startswith("cuda"):
            self.torch.cuda.empty_cache()


def _its(steps: int, seconds: float) -> str:
    return f"{steps / seconds:.2f} it/s ({seconds:.3f} s)"


def measure(name: str, folder: Path, device: str, dtype: str, args, out: Path, quantization: str = "none") -> dict:
    """Both comparisons for one model; returns the figures."""
    size = NATURAL_SIZE[name]
    what = dtype if quantization == "none" else f"{dtype}, {quantization}"
    print(f"\n== {name}: text-to-image {size}×{size}, {args.steps} steps, {what} on {device} ==")
    bench = Bench(folder, device, dtype, size, args.steps, out / (name + quantization), quantization)
    steps = args.steps
    try:
        print(f"  warm-up: bare {bench.bare():.3f} s, app {bench.app()[0]:.3f} s")
        bare_times, app_times = [], []
        for k in range(args.repeats):
            others = OtherLoad()
            b, (a, _result) = bench.bare(), bench.app()
            bare_times.append(b)
            app_times.append(a)
            print(f"  pair {k + 1}: bare {_its(steps, b)}, app {_its(steps, a)}: app/bare it/s {b / a:.3f}×; "
                  f"other processes' CPU {others.fraction():.0%}")
        bare_s, app_s = median(bare_times), median(app_times)
        overhead = bare_s / app_s
        print(f"  median: bare {_its(steps, bare_s)}, app with previews {_its(steps, app_s)}; previews per run: "
              f"{sorted(set(bench.preview_counts))}")
        _verdict(f"{name} app / bare it/s", overhead, OVERHEAD_TARGET)

        fastest = bench.runtime.replace(channels_last=True, compile_unet=True)
        print(f"  fastest setting: {dtype}, channels-last, torch.compile of the UNet (mode "
              f"{_compile_mode()}); compile warm-up:")
        warmups = []
        for k in range(args.compile_warmups):
            seconds, result = bench.app(fastest)
            warmups.append(seconds)
            print(f"    warm-up {k + 1}: {seconds:.1f} s")
            for note in result.model.runtime_notes:  # e.g. no compiling on the CPU
                print(f"    note: {note}")
        fast_times = []
        for k in range(args.repeats):
            others = OtherLoad()
            seconds, _result = bench.app(fastest)
            fast_times.append(seconds)
            print(f"  run {k + 1}: fastest app {_its(steps, seconds)}; other processes' CPU {others.fraction():.0%}")
        fast_s = median(fast_times)
        speedup = bare_s / fast_s
        print(f"  median: fastest app {_its(steps, fast_s)} against bare eager {_its(steps, bare_s)}")
        _verdict(f"{name} fastest / bare eager it/s", speedup, FASTEST_TARGET)
        return dict(bare=steps / bare_s, app=steps / app_s, overhead=overhead, fastest=steps / fast_s,
                    speedup=speedup, compile_warmup=warmups)
    finally:
        bench.close()


def _compile_mode() -> str:
    from desktop.core.runtime import COMPILE_MODE

    return COMPILE_MODE


def _verdict(label: str, value: float, target: float) -> bool:
    ok = value >= target
    print(f"  {label} {value:.3f}× (target ≥ {target:.2f}×): {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="sd15,sdxl,flux-dev,sd35-large",
                        help="comma-separated: sd15, sdxl, flux-dev, sd35-large (CUDA); tiny-flux on the CPU")
    parser.add_argument("--quantized", action="store_true",
                        help="also measure flux-dev and sd35-large with bitsandbytes 4-bit (where installed)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile-warmups", type=int, default=2,
                        help="compiled runs excluded from the figures (compiling, CUDA graph recording)")
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    parser.add_argument("--check-configs", action="store_true",
                        help="only check the full-size configurations' parameter counts (meta device)")
    args = parser.parse_args()
    setup_env()
    if args.check_configs:
        return 0 if check_configs() else 1
    print_machine()

    import torch

    from desktop.app import ensure_application
    from desktop.engine.runner import quiet_libraries

    quiet_libraries()
    app = ensure_application()  # noqa: F841 - the worker's signals need a Qt application
    cuda = torch.cuda.is_available() and args.device != "cpu"
    if args.device == "cuda" and not cuda:
        print("--device cuda was asked for but there is no CUDA GPU here.")
        return 2
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda or 'none'}")
    results = {}
    with temp_dir() as tmp_name:
        tmp = Path(tmp_name)
        if cuda:
            props = torch.cuda.get_device_properties(0)
            print(f"device: {torch.cuda.get_device_name(0)}, {props.total_memory / 2**30:.0f} GiB")
            for name in [m.strip() for m in args.models.split(",") if m.strip()]:
                started = time.perf_counter()
                folder = build_full_size(name, tmp / name, "cuda")
                print(f"built full-size random {name} in {time.perf_counter() - started:.0f} s")
                dtype = "bf16" if name in FLOW_MODELS else "fp16"
                results[name] = measure(name, folder, "cuda", dtype, args, tmp / "out")
                if args.quantized and name in FLOW_MODELS:
                    import importlib.util

                    if importlib.util.find_spec("bitsandbytes") is None:
                        print(f"  {name} 4-bit: skipped, bitsandbytes is not installed here")
                    else:
                        results[f"{name} nf4"] = measure(name, folder, "cuda", dtype, args, tmp / "out", "bnb-4bit")
                import shutil

                shutil.rmtree(folder)  # 7 GB for SDXL, 34 GB for FLUX.1 dev: not kept past its turn
        else:
            print("No CUDA GPU here: measuring the tiny random SD model on the CPU instead (fp32). These figures "
                  "say nothing about GPU throughput.")
            torch.set_num_threads(torch.get_num_threads())
            if "tiny-flux" in args.models:  # the SD 3 / FLUX path of the app, on the tiny random FLUX
                from desktop.testing.tiny_flow import build_tiny_flux

                folder = build_tiny_flux(tmp / "tiny-flux")
                results["tiny-flux"] = measure("tiny-flux", folder, "cpu", "fp32", args, tmp / "out")
            else:
                folder = build_tiny(tmp / "tiny")
                results["tiny"] = measure("tiny", folder, "cpu", "fp32", args, tmp / "out")
    print("\nsummary:")
    ok = True
    for name, r in results.items():
        warm = ", ".join(f"{s:.1f} s" for s in r["compile_warmup"])
        print(f"  {name}: bare {r['bare']:.2f} it/s, app {r['app']:.2f} it/s ({r['overhead']:.3f}×), fastest app "
              f"{r['fastest']:.2f} it/s ({r['speedup']:.3f}× eager); compile warm-up {warm}")
        ok &= r["overhead"] >= OVERHEAD_TARGET and r["speedup"] >= FASTEST_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
