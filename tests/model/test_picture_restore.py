"""Dropping a picture from any tool offers its settings: a preview first, Restore on a click, Undo after."""

from __future__ import annotations

import json

import pytest

from desktop.core.params import GenerationParams
from tests.core import tool_pictures as tp
from tests.core.test_picture_settings import A1111_TEXT, BIG_SEED, FOOOCUS


def _comfy(path):
    return tp.comfyui_png(path, tp.comfy_graph(positive="a lighthouse", negative="fog", seed=BIG_SEED, steps=23,
                                               cfg=6.0, sampler="dpmpp_2m", scheduler="karras", width=832,
                                               height=1216, ckpt="juggernaut.safetensors", hires=True))


def _invoke(path):
    meta = {"positive_prompt": "a red barn", "negative_prompt": "fog", "seed": 7_000_000_001, "steps": 31,
            "cfg_scale": 5.5, "scheduler": "euler_a", "width": 64, "height": 48,
            "model": {"model_name": "juggernautXL", "base_model": "sdxl", "model_type": "main"}}
    return tp.png_with_chunks(path, {"invokeai_metadata": json.dumps(meta)})


def _novelai(path):
    comment = {"steps": 28, "sampler": "k_euler", "seed": 2253955223, "strength": 0.7, "noise": 0.0, "scale": 5.0,
               "uc": "lowres"}
    return tp.novelai_png(path, prompt="1girl, space", comment=comment)


PICTURES = {
    "AUTOMATIC1111": (lambda p: tp.a1111_png(p, A1111_TEXT), "a castle at dusk, <lora:inkwash:0.65>", 3141592653, 27),
    "stealth": (lambda p: tp.a1111_stealth(p, A1111_TEXT), "a castle at dusk, <lora:inkwash:0.65>", 3141592653, 27),
    "ComfyUI": (_comfy, "a lighthouse", BIG_SEED, 23),
    "Fooocus": (lambda p: tp.fooocus_png(p, **FOOOCUS), "a smiling goldfish", 6952411511246973023, 30),
    "InvokeAI": (_invoke, "a red barn", 7_000_000_001, 31),
    "NovelAI": (_novelai, "1girl, space", 2253955223, 28),
}


@pytest.mark.parametrize("tool", list(PICTURES))
def test_every_tools_picture_restores_prompt_seed_and_steps_exactly(model, tmp_path, tool):
    write, prompt, seed, steps = PICTURES[tool]
    offers = []
    model.metadata_found.connect(offers.append)
    assert model.load_init_image(write(tmp_path / f"{tool}.png"))
    assert len(offers) == 1
    before = model.params
    assert f"seed random → {seed}" in offers[0].text and model.params == before  # a preview, nothing changed yet
    model.restore_settings(offers[0])
    assert (model.params.prompt, model.params.seed, model.params.steps) == (prompt, seed, steps)
    GenerationParams(**{**model.params.to_dict(), "model": "m"}).validate()  # what it restored can run


def test_a_picture_with_no_readable_settings_offers_nothing(model, make_image, tmp_path):
    offers = []
    model.metadata_found.connect(offers.append)
    model.load_init_image(make_image())
    model.load_init_image(tp.png_with_chunks(tmp_path / "caption.png", {"parameters": "a caption, nothing else"}))
    assert offers == []


def test_the_preview_names_each_change_and_undo_puts_everything_back(model, tmp_path):
    model.update_params(prompt="my own prompt", negative_prompt="", steps=12, seed=5, guidance_scale=7.5,
                        sampler="Euler", schedule="automatic")
    before = model.params
    offers = []
    model.metadata_found.connect(offers.append)
    model.load_init_image(tp.fooocus_png(tmp_path / "f.png", **FOOOCUS))
    offer = offers[0]
    assert offer.preview == (
        "prompt “my own prompt” → “a smiling goldfish”",
        "negative prompt none → “(bad art:1.4), blurry”",
        "seed 5 → 6952411511246973023",
        "steps 12 → 30",
        "CFG 7.5 → 4",
        "sampler Euler → DPM++ 2M SDE",
        "schedule Automatic → Karras",
        "LoRAs none → detail-slider 0.8",
    )
    assert "LoRA detail-slider: not installed." in offer.text and "Not used: sharpness 2, adm guidance" in offer.text
    model.restore_settings(offer)
    assert (model.params.sampler, model.params.schedule, model.params.guidance_scale) == ("DPM++ 2M SDE", "karras", 4.0)
    assert model.params.loras == (("detail-slider", 0.8),)
    assert model.undo_restore()
    assert model.params == before
    assert not model.undo_restore()  # one restore, one undo


def test_the_pictures_model_is_offered_when_installed_and_named_when_not(model, host, hub_cache, tmp_path):
    (hub_cache / "models--someone--juggernautXL").mkdir()  # the Hub cache's own folder layout
    model.set_model("stable-diffusion-v1-5/stable-diffusion-v1-5")
    offers = []
    model.metadata_found.connect(offers.append)
    model.load_init_image(_invoke(tmp_path / "i.png"))
    assert offers[-1].model == "someone/juggernautXL" and "Model juggernautXL: installed." in offers[-1].text
    model.restore_settings(offers[-1], use_model=True)
    assert model.params.model == "someone/juggernautXL"
    model.undo_restore()
    assert model.params.model == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    model.load_init_image(_comfy(tmp_path / "c.png"))
    assert offers[-1].model == "" and offers[-1].missing_model == "juggernaut.safetensors"
    assert "Model juggernaut.safetensors: not installed." in offers[-1].text


def test_a_64_bit_seed_survives_a_restart(model, data_dir, host, tmp_path):
    from desktop.model.session import SessionModel
    from desktop.model.settings import Settings

    model.load_init_image(_comfy(tmp_path / "c.png"))
    model.update_params(seed=BIG_SEED)
    model.settings.sync()
    again = SessionModel(Settings(data_dir, default_output_dir=data_dir / "out"), host)
    assert again.params.seed == BIG_SEED
