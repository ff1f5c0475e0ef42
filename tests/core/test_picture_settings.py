"""Pictures from every tool restore their settings; a picture with nothing readable offers nothing."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from desktop.core.picture_settings import read_picture_settings

from . import tool_pictures as tp

BIG_SEED = 18446744073709551557  # the largest 64-bit prime: any float on the way would change it

A1111_TEXT = (
    "a castle at dusk, <lora:inkwash:0.65>\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 27, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592653, Size: 640x448, "
    "Model hash: 0123456789, Model: dreamshaper_8, Denoising strength: 0.45, Clip skip: 2, ENSD: 31337, "
    'Lora hashes: "inkwash: abcdef123456", Version: v1.10.1'
)


def _check_a1111(s):
    assert s.tool == "AUTOMATIC1111"
    assert s.prompt == "a castle at dusk, <lora:inkwash:0.65>" and s.negative_prompt == "blurry, lowres"
    assert (s.seed, s.steps, s.guidance_scale) == (3141592653, 27, 6.5)
    assert (s.sampler, s.schedule, s.width, s.height, s.strength) == ("DPM++ 2M", "karras", 640, 448, 0.45)
    assert (s.model_name, s.model_hash) == ("dreamshaper_8", "0123456789")
    assert s.loras == (("inkwash", 0.65),)
    assert s.unused_text == "Clip skip 2, ENSD 31337"


def test_automatic1111_png(tmp_path):
    _check_a1111(read_picture_settings(tp.a1111_png(tmp_path / "a.png", A1111_TEXT)))


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_automatic1111_exif_user_comment(tmp_path, fmt):
    _check_a1111(read_picture_settings(tp.a1111_exif(tmp_path / f"a.{fmt.lower()}", A1111_TEXT, fmt)))


def test_automatic1111_stealth_alpha(tmp_path):
    path = tp.a1111_stealth(tmp_path / "stealth.png", A1111_TEXT)
    with Image.open(path) as image:
        assert "parameters" not in image.info  # nothing but the alpha bits carries it
    _check_a1111(read_picture_settings(path))


def test_old_a1111_sampler_names_carry_the_schedule(tmp_path):
    text = "cat\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x512"
    s = read_picture_settings(tp.a1111_png(tmp_path / "old.png", text))
    assert (s.sampler, s.schedule) == ("DPM++ 2M", "karras")


def test_comfyui_graph_is_walked_to_the_first_samplers_prompts(tmp_path):
    graph = tp.comfy_graph(positive="a lighthouse, oil painting\n", negative="text, watermark", seed=BIG_SEED,
                           steps=23, cfg=6.0, sampler="dpmpp_2m_sde_gpu", scheduler="karras", width=832,
                           height=1216, ckpt="SDXL/juggernautXL_v9.safetensors",
                           loras=[("film-grain.safetensors", 0.7), ("ink.safetensors", 0.35)], hires=True)
    s = read_picture_settings(tp.comfyui_png(tmp_path / "comfy.png", graph))
    assert s.tool == "ComfyUI"
    assert (s.prompt, s.negative_prompt) == ("a lighthouse, oil painting", "text, watermark")
    assert (s.seed, s.steps, s.guidance_scale) == (BIG_SEED, 23, 6.0)
    assert (s.sampler, s.schedule, s.width, s.height) == ("DPM++ 2M SDE", "karras", 832, 1216)
    assert s.strength is None  # text to image: denoise 1.0 from an empty latent
    assert s.model_name == "SDXL/juggernautXL_v9.safetensors"
    assert s.loras == (("film-grain", 0.7), ("ink", 0.35))  # as the LoRA folders name them
    assert ("KSampler #12", "7 steps") in s.unused  # the hires pass is named, not mixed in


def test_comfyui_image_to_image_reads_denoise_as_strength(tmp_path):
    graph = tp.comfy_graph(positive="watercolour", negative="", seed=5, steps=20, cfg=7.0, sampler="euler_ancestral",
                           scheduler="normal", width=0, height=0, ckpt="v1-5.safetensors", img2img_denoise=0.55)
    s = read_picture_settings(tp.comfyui_png(tmp_path / "i2i.png", graph, with_workflow=False))
    assert (s.prompt, s.seed, s.strength, s.sampler, s.schedule) == ("watercolour", 5, 0.55, "Euler a", "automatic")
    assert s.width is None


def test_comfyui_sdxl_text_encoder_and_unknown_scheduler(tmp_path):
    graph = tp.comfy_graph(positive="x", negative="y", seed=1, steps=8, cfg=2.0, sampler="lcm", scheduler="beta",
                           width=1024, height=1024, ckpt="sdxl.safetensors")
    graph["6"] = {"class_type": "CLIPTextEncodeSDXL", "inputs": {"text_g": "a fox", "text_l": "a fox", "width": 1024,
                                                                  "height": 1024, "clip": ["4", 1]}}
    s = read_picture_settings(tp.comfyui_png(tmp_path / "sdxl.png", graph))
    assert (s.prompt, s.sampler, s.schedule) == ("a fox", "LCM", "")
    assert ("schedule", "beta") in s.unused


FOOOCUS = dict(
    adm_guidance="(1.5, 0.8, 0.3)", base_model="juggernautXL_v8Rundiffusion", base_model_hash="aeb7e9e689",
    clip_skip=2, full_negative_prompt=["(worst quality, bad art:1.4), (watermark:1.2)"],
    full_prompt=["cinematic still a smiling goldfish . emotional"], guidance_scale=4,
    loras=[["detail-slider", 0.8, "1234567890"]],
    metadata_scheme="fooocus", negative_prompt="(bad art:1.4), blurry", performance="Speed",
    prompt="a smiling goldfish", prompt_expansion="a smiling goldfish, deep focus", refiner_model="None",
    refiner_switch=0.5, resolution="(768, 1280)", sampler="dpmpp_2m_sde_gpu", scheduler="karras",
    seed="6952411511246973023", sharpness=2, steps=30, styles="['Fooocus V2', 'Fooocus Sharp']",
    vae="Default (model)", version="Fooocus v2.5.5",
)


def test_fooocus_is_read_as_fooocus_not_as_a1111_text(tmp_path):
    s = read_picture_settings(tp.fooocus_png(tmp_path / "fooocus.png", **FOOOCUS))
    assert s.tool == "Fooocus"
    # Today's misread offered an empty prompt and fields such as "bad art: 1.4)": both are failures.
    assert (s.prompt, s.negative_prompt) == ("a smiling goldfish", "(bad art:1.4), blurry")
    assert s.seed == 6952411511246973023 and s.steps == 30 and s.guidance_scale == 4.0
    assert (s.sampler, s.schedule, s.width, s.height) == ("DPM++ 2M SDE", "karras", 768, 1280)
    assert (s.model_name, s.model_hash) == ("juggernautXL_v8Rundiffusion", "aeb7e9e689")
    assert s.loras == (("detail-slider", 0.8),)
    assert "sharpness 2" in s.unused_text and "styles" in s.unused_text
    assert "bad art" not in s.unused_text


def test_invokeai_current_metadata(tmp_path):
    meta = {"generation_mode": "sdxl_img2img", "positive_prompt": "a red barn", "negative_prompt": "fog",
            "width": 1024, "height": 768, "seed": BIG_SEED, "cfg_scale": 5.5, "cfg_rescale_multiplier": 0.0,
            "steps": 31, "scheduler": "dpmpp_2m_k", "strength": 0.6, "rand_device": "cpu",
            "model": {"model_name": "juggernautXL", "base_model": "sdxl", "model_type": "main"},
            "loras": [{"model": {"model_name": "pixel-art", "base_model": "sdxl"}, "weight": 0.9}]}
    s = read_picture_settings(tp.png_with_chunks(tmp_path / "invoke.png", {"invokeai_metadata": json.dumps(meta)}))
    assert s.tool == "InvokeAI"
    assert (s.prompt, s.negative_prompt, s.seed, s.steps, s.guidance_scale) == ("a red barn", "fog", BIG_SEED, 31, 5.5)
    assert (s.sampler, s.schedule, s.width, s.height, s.strength) == ("DPM++ 2M", "karras", 1024, 768, 0.6)
    assert s.model_name == "juggernautXL" and s.loras == (("pixel-art", 0.9),)


def test_invokeai_sd_metadata_lists_what_restyle_does_not_use(tmp_path):
    meta = {"model": "stable diffusion", "model_weights": "deliberate_v2",
            "model_hash": "56d1442a0feefd64836a19ac8e3527ec71c884fc962e246ddf67b03e42921272",
            "app_id": "invoke-ai/InvokeAI", "app_version": "2.3.0",
            "image": {"prompt": [{"prompt": "a harbour at dawn [fog, people]", "weight": 1.0}], "steps": 40,
                      "cfg_scale": 7.5, "threshold": 0, "perlin": 0, "height": 576, "width": 704, "seed": 42,
                      "seamless": False, "hires_fix": False, "type": "txt2img", "sampler": "k_euler_a",
                      "variations": []}}
    s = read_picture_settings(tp.png_with_chunks(tmp_path / "sdmeta.png", {"sd-metadata": json.dumps(meta)}))
    assert (s.prompt, s.negative_prompt, s.seed, s.steps) == ("a harbour at dawn", "fog, people", 42, 40)
    assert (s.sampler, s.width, s.height, s.model_name, s.model_hash) == ("Euler a", 704, 576, "deliberate_v2",
                                                                          "56d1442a0f")
    assert s.unused_text == "perlin 0, threshold 0"


def test_invokeai_legacy_dream_line(tmp_path):
    dream = '"a misty forest [people, cars]" -s 35 -S 2980747362 -W 512 -H 768 -C 7.5 -A k_heun'
    s = read_picture_settings(tp.png_with_chunks(tmp_path / "dream.png", {"Dream": dream}))
    assert (s.prompt, s.negative_prompt, s.seed, s.steps, s.guidance_scale) == ("a misty forest", "people, cars",
                                                                                2980747362, 35, 7.5)
    assert (s.sampler, s.width, s.height) == ("Heun", 512, 768)


def test_novelai(tmp_path):
    comment = {"steps": 28, "sampler": "k_dpmpp_2m", "seed": 2253955223, "strength": 0.7, "noise": 0.0,
               "scale": 5.0, "uc": "lowres, bad hands", "width": 832, "height": 1216, "noise_schedule": "karras",
               "sm": False, "request_type": "PromptGenerateRequest"}
    s = read_picture_settings(tp.novelai_png(tmp_path / "nai.png", prompt="1girl, space, icon", comment=comment))
    assert s.tool == "NovelAI"
    assert (s.prompt, s.negative_prompt, s.seed, s.steps) == ("1girl, space, icon", "lowres, bad hands", 2253955223, 28)
    assert s.guidance_scale == 5.0
    assert (s.sampler, s.schedule, s.width, s.height) == ("DPM++ 2M", "karras", 832, 1216)
    assert (s.model_name, s.model_hash) == ("Stable Diffusion XL", "C1E1DE52")


@pytest.mark.parametrize("chunks", [
    {},
    {"parameters": "just a caption someone typed"},
    {"parameters": '{"not": "fooocus", "bad art": "1.4)"}'},
    {"prompt": "not json"},
    {"Comment": "{}", "Software": "NovelAI"},
])
def test_nothing_readable_offers_nothing(tmp_path, chunks):
    assert read_picture_settings(tp.png_with_chunks(tmp_path / "x.png", chunks)) is None


def test_a_plain_rgba_photo_offers_nothing(tmp_path):
    path = tmp_path / "rgba.png"
    Image.new("RGBA", (300, 200), (10, 20, 30, 255)).save(path)
    assert read_picture_settings(path) is None


def test_not_a_picture_offers_nothing(tmp_path):
    path = tmp_path / "notes.png"
    path.write_bytes(b"not a png at all")
    assert read_picture_settings(path) is None

