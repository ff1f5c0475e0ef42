"""Shared fixtures: offline, offscreen, a tiny random-weight model built once, and no leftover threads."""

from __future__ import annotations

import os
import tempfile

# Before anything imports Qt or huggingface_hub: no screen, no network, no user cache.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
# The user's own cache is remembered for the real-weights tests (tests/real), which only read from it.
os.environ.setdefault("RESTYLE_USER_HF_CACHE", os.environ.get("HF_HUB_CACHE") or os.path.join(
    os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface"), "hub"))
os.environ["HF_HUB_CACHE"] = tempfile.mkdtemp(prefix="restyle-hf-cache-")
os.environ.pop("RESTYLE_DATA_DIR", None)
# The tiny models gain nothing from torch's intra-op threads, and on a busy 2-core machine the spinning OpenMP
# threads made every step about 100× slower (measured: 0.15 s against 15 s for one tiny generation).
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# CI runs the fuzz and property tests on a fixed sequence of examples (a red CI is then reproducible, never a
# coin toss); a developer's run explores new ones each time and remembers failures in .hypothesis/.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
from PIL import Image  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random SD 1.x model in diffusers format (natural size 64 px), loaded like a real one."""
    from desktop.testing.tiny import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd", seed=0)


@pytest.fixture(scope="session")
def tiny_controlnet(tiny_model, tmp_path_factory) -> Path:
    """A tiny random depth ControlNet made from the tiny SD model's UNet, so it fits that model."""
    from desktop.testing.tiny_control import build_tiny_controlnet

    return build_tiny_controlnet(tmp_path_factory.mktemp("controlnets") / "tiny-depth-cn", tiny_model)


@pytest.fixture(scope="session")
def tiny_sdxl_controlnet(tmp_path_factory) -> Path:
    """A tiny random ControlNet shaped like an SDXL one: refused on the tiny SD model."""
    from desktop.testing.tiny_control import build_tiny_sdxl_controlnet

    return build_tiny_sdxl_controlnet(tmp_path_factory.mktemp("controlnets") / "tiny-sdxl-cn")


@pytest.fixture(scope="session")
def tiny_depth_model(tmp_path_factory) -> Path:
    """A tiny random Depth Anything model folder (transformers format)."""
    from desktop.testing.tiny_control import build_tiny_depth_model

    return build_tiny_depth_model(tmp_path_factory.mktemp("depth") / "tiny-depth", seed=0)


@pytest.fixture()
def make_depth(tmp_path):
    """Write a depth map and return its path: make_depth("d.png", (w, h), bits=8|16); near half on the left."""
    import numpy as np

    def make(name: str = "depth.png", size=(96, 64), bits: int = 8) -> Path:
        width, height = size
        top = 65535 if bits == 16 else 255
        array = np.zeros((height, width), np.uint16 if bits == 16 else np.uint8)
        array[:, : width // 2] = top
        array[:, width // 2 :] = top // 4
        path = tmp_path / name
        Image.fromarray(array).save(path)
        return path

    return make


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    """A data folder for settings, logs and outputs, never the user's."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture()
def make_image(tmp_path):
    """Write a small test picture and return its path: make_image("a.png", (w, h), color)."""

    def make(name: str = "input.png", size=(96, 64), color=(200, 60, 40), **save_kwargs) -> Path:
        path = tmp_path / name
        image = Image.new("RGB", size, color)
        # A second colour block so the image has structure for the model to keep.
        image.paste((30, 90, 200), (0, 0, size[0] // 2, size[1] // 2))
        image.save(path, **save_kwargs)
        return path

    return make


@pytest.fixture(autouse=True)
def _no_worker_thread_left():
    """Fail any test that leaves an inference thread or a background job (download, scan, fetch) running, and
    stop them so others are not affected."""
    yield
    import sys

    left = []
    if "desktop.worker.host" in sys.modules:
        from desktop.worker.host import running_hosts

        hosts = running_hosts()
        for host in hosts:
            host.shutdown()
        left += [f"{len(hosts)} worker thread(s)"] if hosts else []
    if "desktop.worker.background" in sys.modules:
        from desktop.worker.background import running_jobs

        jobs = running_jobs()
        names = [job.objectName() for job in jobs]
        for job in jobs:
            job.stop()
        left += [f"background job(s) {', '.join(names)}"] if jobs else []
    assert not left, f"left running: {'; '.join(left)}"


@pytest.fixture(scope="session")
def tiny_sdxl(tmp_path_factory) -> Path:
    """A tiny random SDXL base (two text encoders) in diffusers format, natural size 64 px."""
    from desktop.testing.tiny_sdxl import build_tiny_sdxl

    return build_tiny_sdxl(tmp_path_factory.mktemp("models") / "tiny-sdxl", seed=0)


@pytest.fixture(scope="session")
def tiny_sdxl_refiner(tmp_path_factory) -> Path:
    """A tiny random SDXL refiner (second text encoder only, aesthetic scores), with the base's VAE."""
    from desktop.testing.tiny_sdxl import build_tiny_sdxl_refiner

    return build_tiny_sdxl_refiner(tmp_path_factory.mktemp("models") / "tiny-sdxl-refiner", seed=0)


@pytest.fixture(scope="session")
def tiny_kandinsky(tmp_path_factory) -> Path:
    """A tiny random Kandinsky 2.2 decoder folder whose model card names its tiny prior (loaded as one)."""
    from desktop.testing.tiny_kandinsky import (
        build_tiny_kandinsky,
        build_tiny_kandinsky_prior,
    )

    root = tmp_path_factory.mktemp("models")
    prior = build_tiny_kandinsky_prior(root / "tiny-kandinsky-prior", seed=0)
    return build_tiny_kandinsky(root / "tiny-kandinsky-decoder", prior, seed=0)


@pytest.fixture()
def hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache folder of this test's own (HF_HUB_CACHE points at it)."""
    folder = tmp_path / "hf-cache"
    folder.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    return folder


@pytest.fixture()
def fake_hub(monkeypatch):
    """A loopback Hub (see tests/hub_helpers.py); HF_ENDPOINT points at it and the app is online."""
    from tests.hub_helpers import FakeHub

    hub = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)  # read once, at its import
    yield hub
    hub.close()


@pytest.fixture(scope="session")
def tiny_x2_upscaler(tiny_model, tmp_path_factory) -> Path:
    """A tiny random ×2 latent upscaler sharing ``tiny_model``'s VAE, so that model's latents go straight in."""
    from desktop.testing.tiny_upscale import build_tiny_latent_upscaler

    return build_tiny_latent_upscaler(tmp_path_factory.mktemp("upscalers") / "tiny-x2", tiny_model)


@pytest.fixture(scope="session")
def tiny_x4_upscaler(tmp_path_factory) -> Path:
    """A tiny random ×4 super-resolution pipeline."""
    from desktop.testing.tiny_upscale import build_tiny_x4_upscaler

    return build_tiny_x4_upscaler(tmp_path_factory.mktemp("upscalers") / "tiny-x4")


@pytest.fixture(scope="session")
def tiny_sd_inpainting(tmp_path_factory) -> Path:
    """A tiny random SD 1.5-layout inpainting model (9-channel UNet), natural size 64 px."""
    from desktop.testing.tiny_inpaint import build_tiny_sd_inpainting

    return build_tiny_sd_inpainting(tmp_path_factory.mktemp("models") / "tiny-sd-inpainting", seed=0)


@pytest.fixture(scope="session")
def tiny_sdxl_inpainting(tmp_path_factory) -> Path:
    """A tiny random SDXL-layout inpainting model (two text encoders, 9-channel UNet), natural size 64 px."""
    from desktop.testing.tiny_inpaint import build_tiny_sdxl_inpainting

    return build_tiny_sdxl_inpainting(tmp_path_factory.mktemp("models") / "tiny-sdxl-inpainting", seed=0)


@pytest.fixture(scope="session")
def tiny_sd3(tmp_path_factory) -> Path:
    """A tiny random SD 3 (two CLIP encoders and T5, 16-channel latents, patch 2) in diffusers format, 64 px."""
    from desktop.testing.tiny_flow import build_tiny_sd3

    return build_tiny_sd3(tmp_path_factory.mktemp("models") / "tiny-sd3", seed=0)


@pytest.fixture(scope="session")
def tiny_flux(tmp_path_factory) -> Path:
    """A tiny random FLUX.1 dev (distilled guidance, packed 16-channel latents) in diffusers format, 64 px."""
    from desktop.testing.tiny_flow import build_tiny_flux

    return build_tiny_flux(tmp_path_factory.mktemp("models") / "tiny-flux", seed=0)


@pytest.fixture(scope="session")
def tiny_flux_kontext(tmp_path_factory) -> Path:
    """A tiny random FLUX.1 Kontext with the tiny FLUX's VAE, so FLUX results chain into it in latent space."""
    from desktop.testing.tiny_flow import build_tiny_flux

    return build_tiny_flux(tmp_path_factory.mktemp("models") / "tiny-flux-kontext", seed=1, kontext=True)


@pytest.fixture(scope="session")
def tiny_flux_schnell(tmp_path_factory) -> Path:
    """A tiny random FLUX.1 schnell (no guidance input) in diffusers format."""
    from desktop.testing.tiny_flow import build_tiny_flux

    return build_tiny_flux(tmp_path_factory.mktemp("models") / "tiny-flux-schnell", seed=2, schnell=True)


@pytest.fixture(scope="session")
def tiny_style_files(tiny_model, tiny_sdxl, tmp_path_factory) -> dict:
    """Tiny LoRAs and embeddings for the tiny SD and SDXL models, in the formats users have (desktop/testing)."""
    from desktop.testing.tiny_styles import build_tiny_embedding, build_tiny_lora

    root = tmp_path_factory.mktemp("styles")
    return {
        "kohya": build_tiny_lora(root / "loras" / "inkwash.safetensors", tiny_model, fmt="kohya", seed=1),
        "diffusers": build_tiny_lora(root / "loras" / "pastel.safetensors", tiny_model, fmt="diffusers", seed=2),
        "sdxl_kohya": build_tiny_lora(root / "xl" / "xl-ink.safetensors", tiny_sdxl, fmt="kohya", seed=3),
        "sdxl_diffusers": build_tiny_lora(root / "xl" / "xl-pastel.safetensors", tiny_sdxl, fmt="diffusers", seed=4),
        "embedding": build_tiny_embedding(root / "embeddings" / "grainy.safetensors", tiny_model, seed=5),
        "embedding_pt": build_tiny_embedding(root / "pt" / "oldstyle.pt", tiny_model, fmt="a1111_pt", seed=6),
        "embedding_diffusers": build_tiny_embedding(root / "learned" / "sparkle.safetensors", tiny_model,
                                                    fmt="diffusers", seed=7),
        "sdxl_embedding": build_tiny_embedding(root / "xl" / "xl-grain.safetensors", tiny_sdxl, seed=8),
    }
