"""``restyle info`` and ``restyle generate --settings-from``; what Restyle writes never says where files are."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from desktop.cli import main
from desktop.core.metadata import parse_parameters_text, read_parameters
from tests.core import tool_pictures as tp
from tests.core.test_picture_settings import BIG_SEED, FOOOCUS

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def test_no_png_restyle_writes_carries_a_local_path_and_checkpoints_carry_their_hash(
        tiny_model, tiny_controlnet, make_image, tmp_path, tmp_path_factory, data_dir, hub_cache, capsys):
    from desktop.testing.tiny_single import save_tiny_single_file
    from tests.hub_helpers import add_to_cache

    add_to_cache(hub_cache, SD15, tiny_model)
    checkpoint = save_tiny_single_file(tiny_model, tmp_path / "models" / "dreamy-style.safetensors")
    out = tmp_path / "shared" / "result.png"
    out.parent.mkdir()
    common = ["--prompt", "ink wash", "--steps", "2", "--seed", "3", "--data-dir", str(data_dir)]
    assert main(["generate", "--model", str(checkpoint), "--init", str(make_image()), "--output", str(out),
                 *common]) == 0
    # A local ControlNet folder too: its name may show, never its folder.
    assert main(["generate", "--model", str(tiny_model), "--control-image", str(make_image("d.png")), "--controlnet",
                 str(tiny_controlnet), *common]) == 0, capsys.readouterr().err
    fields = parse_parameters_text(read_parameters(out)).fields
    assert fields["Model"] == "dreamy-style"
    assert fields["Model hash"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:10]
    assert (data_dir / "model-hashes.json").is_file()  # hashed once, remembered for the next load
    written = [out, *(data_dir / "outputs").glob("*.png")]
    assert len(written) == 2
    for path in written:
        data = path.read_bytes()
        # The folder every test file lives under (models, ControlNet, init picture, outputs), and the home folder.
        for private in (str(tmp_path_factory.getbasetemp()), str(Path.home()) + "/"):
            assert private.encode() not in data and private.encode("utf-16-be") not in data, path


def test_info_prints_what_a_comfyui_picture_says(tmp_path, capsys):
    graph = tp.comfy_graph(positive="a lighthouse", negative="fog", seed=BIG_SEED, steps=23, cfg=6.0,
                           sampler="dpmpp_2m", scheduler="karras", width=832, height=1216,
                           ckpt="juggernaut.safetensors", loras=[("grain.safetensors", 0.7)], hires=True)
    path = tp.comfyui_png(tmp_path / "comfy.png", graph)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["Tool: ComfyUI", "Prompt: a lighthouse", "Negative prompt: fog"]
    assert out[3] == f"Seed: {BIG_SEED}, Steps: 23, CFG scale: 6.0, Sampler: DPM++ 2M (Karras), Size: 832x1216"
    assert out[4:] == ["Model: juggernaut.safetensors", "LoRAs: grain 0.7", "Not used: KSampler #12 7 steps"]
    assert main(["info", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["seed"] == BIG_SEED


def test_info_on_pictures_without_settings_and_on_non_pictures(tmp_path, make_image, capsys):
    assert main(["info", str(make_image())]) == 1
    assert "carries no settings Restyle can read" in capsys.readouterr().err
    text = tmp_path / "notes.png"
    text.write_text("hello")
    assert main(["info", str(text)]) == 2
    assert "not a picture" in capsys.readouterr().err


def test_generate_takes_a_fooocus_pictures_settings_and_explicit_flags_win(tiny_model, tmp_path, data_dir, hub_cache,
                                                                          capsys):
    from tests.hub_helpers import add_to_cache

    add_to_cache(hub_cache, SD15, tiny_model)  # the picture's model, installed here under its Hub id
    picture = tp.fooocus_png(tmp_path / "fooocus.png", **{**FOOOCUS, "base_model": "stable-diffusion-v1-5.safetensors",
                                                          "loras": []})
    out = tmp_path / "again.png"
    assert main(["generate", "--settings-from", str(picture), "--steps", "2", "--width", "64", "--height", "64",
                 "--output", str(out), "--data-dir", str(data_dir)]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert f"Model: {SD15}" in err and "Not used: sharpness 2" in err
    parsed = parse_parameters_text(read_parameters(out))
    assert (parsed.prompt, parsed.negative_prompt) == ("a smiling goldfish", "(bad art:1.4), blurry")
    assert parsed.fields["Seed"] == "6952411511246973023"  # 64 bits, exactly
    assert (parsed.fields["Steps"], parsed.fields["CFG scale"], parsed.fields["Size"]) == ("2", "4.0", "64x64")
    assert (parsed.fields["Sampler"], parsed.fields["Schedule type"]) == ("DPM++ 2M SDE", "Karras")


def test_generate_names_a_model_that_is_not_installed(tmp_path, data_dir, hub_cache, capsys):
    picture = tp.a1111_png(tmp_path / "a.png",
                           "cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Model: rare-model-v3")
    assert main(["generate", "--settings-from", str(picture), "--data-dir", str(data_dir)]) == 2
    assert "rare-model-v3, which is not installed here" in capsys.readouterr().err


def test_generate_without_a_prompt_says_which_flag(tiny_model, data_dir, capsys):
    assert main(["generate", "--model", str(tiny_model), "--data-dir", str(data_dir)]) == 2
    assert "Give --prompt" in capsys.readouterr().err


def test_generate_takes_a_comfyui_pictures_loras(tiny_model, tmp_path, data_dir, capsys):
    from desktop.testing.tiny_styles import build_tiny_lora

    build_tiny_lora(data_dir / "loras" / "tiny-ink.safetensors", tiny_model)  # the default LoRA folder
    graph = tp.comfy_graph(positive="harbour at dawn", negative="", seed=12, steps=2, cfg=5.0, sampler="euler",
                           scheduler="normal", width=64, height=64, ckpt="whatever.safetensors",
                           loras=[("SD15/tiny-ink.safetensors", 0.8)])
    out = tmp_path / "again.png"
    assert main(["generate", "--settings-from", str(tp.comfyui_png(tmp_path / "c.png", graph)), "--model",
                 str(tiny_model), "--output", str(out), "--data-dir", str(data_dir)]) == 0, capsys.readouterr().err
    assert "LoRAs: tiny-ink 0.8" in capsys.readouterr().err
    parsed = parse_parameters_text(read_parameters(out))
    assert parsed.prompt == "harbour at dawn <lora:tiny-ink:0.8>" and "tiny-ink" in parsed.fields["Lora hashes"]
    assert (parsed.fields["Seed"], parsed.fields["Size"], parsed.fields["Sampler"]) == ("12", "64x64", "Euler")
