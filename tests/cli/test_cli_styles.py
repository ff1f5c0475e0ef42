"""``restyle generate --lora … --embedding …``: the issue's "done when" command, headless."""

from desktop.cli import main
from desktop.core.metadata import parse_parameters_text, read_parameters
from desktop.core.style_files import embedding_hash, lora_hash, parse_hashes


def test_a_lora_by_path_with_sampler_and_schedule_lands_in_the_png(tiny_model, tiny_style_files, make_image,
                                                                   tmp_path, data_dir):
    out = tmp_path / "out.png"
    lora = tiny_style_files["kohya"]
    code = main(["generate", "--model", str(tiny_model), "--prompt", "harbour", "--init", str(make_image()),
                 "--steps", "4", "--seed", "2", "--lora", f"{lora}:0.8", "--sampler", "DPM++ 2M", "--schedule",
                 "karras", "--output", str(out), "--data-dir", str(data_dir)])
    assert code == 0
    parsed = parse_parameters_text(read_parameters(out))
    assert parsed.prompt == "harbour <lora:inkwash:0.8>"
    assert parse_hashes(parsed.fields["Lora hashes"]) == {"inkwash": lora_hash(lora)}
    assert (parsed.fields["Sampler"], parsed.fields["Schedule type"]) == ("DPM++ 2M", "Karras")


def test_names_are_found_in_lora_and_embedding_folders(tiny_model, tiny_style_files, tmp_path, data_dir):
    out = tmp_path / "out.png"
    code = main(["generate", "--model", str(tiny_model), "--prompt", "harbour, grainy <lora:pastel:0.5>", "--steps",
                 "2", "--seed", "2", "--lora-dir", str(tiny_style_files["diffusers"].parent), "--embedding-dir",
                 str(tiny_style_files["embedding"].parent), "--output", str(out), "--data-dir", str(data_dir)])
    assert code == 0
    fields = parse_parameters_text(read_parameters(out)).fields
    assert parse_hashes(fields["TI hashes"]) == {"grainy": embedding_hash(tiny_style_files["embedding"])}
    assert list(parse_hashes(fields["Lora hashes"])) == ["pastel"]


def test_a_missing_lora_exits_2_with_one_line(tiny_model, data_dir, capsys):
    code = main(["generate", "--model", str(tiny_model), "--prompt", "x", "--lora", "nowhere:0.5", "--steps", "1",
                 "--data-dir", str(data_dir)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "'nowhere' was not found" in err and len(err.splitlines()) == 1


def test_reference_images_through_an_ip_adapter_file(tiny_model, make_image, tmp_path, data_dir):
    from desktop.testing.tiny_styles import build_tiny_ip_adapter

    adapter = build_tiny_ip_adapter(tmp_path / "ip" / "models", tiny_model)
    out = tmp_path / "out.png"
    code = main(["generate", "--model", str(tiny_model), "--prompt", "harbour", "--steps", "2", "--seed", "2",
                 "--reference", str(make_image("ref.png")), "--reference-scale", "0.8", "--reference-style-only",
                 "--ip-adapter", str(adapter), "--output", str(out), "--data-dir", str(data_dir)])
    assert code == 0
    fields = parse_parameters_text(read_parameters(out)).fields
    assert fields["IP-Adapter"] == "ip-adapter_tiny, Weight: 0.8, Images: 1, style only"
