"""The model library: the catalogue, a scanned Hugging Face cache and user folders."""

import json

import pytest

from desktop.core.catalogue import CATALOGUE
from desktop.core.errors import RestyleError
from desktop.core.library import library_entries, remove_download, scan_user_path
from tests.hub_helpers import add_to_cache

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def _by_name(entries):
    return {e.name: e for e in entries}


def test_the_catalogue_names_the_guides_models_with_role_family_size_and_licence():
    repos = {e.repo for e in CATALOGUE}
    for needed in (SD15, "stabilityai/stable-diffusion-xl-base-1.0", "stabilityai/stable-diffusion-xl-refiner-1.0",
                   "kandinsky-community/kandinsky-2-2-decoder", "kandinsky-community/kandinsky-2-2-prior",
                   "ogkalu/Comic-Diffusion", "kohbanye/pixel-art-style", "nitrosocke/elden-ring-diffusion",
                   "lllyasviel/control_v11f1p_sd15_depth", "stabilityai/sd-x2-latent-upscaler",
                   "stabilityai/stable-diffusion-x4-upscaler"):
        assert needed in repos
    assert {e.role for e in CATALOGUE} >= {"base", "refiner", "ControlNet", "upscaler", "style"}
    assert all(e.family and e.licence and e.approx_bytes > 0 for e in CATALOGUE)


def test_an_empty_cache_shows_the_catalogue_as_not_installed(hub_cache):
    entries = library_entries()
    assert len(entries) == len(CATALOGUE)
    assert not any(e.installed for e in entries)


def test_cached_models_are_found_with_their_size_and_role(hub_cache, tiny_model, tiny_controlnet):
    add_to_cache(hub_cache, SD15, tiny_model)
    add_to_cache(hub_cache, "someone/my-finetune", tiny_model)
    add_to_cache(hub_cache, "someone/my-controlnet", tiny_controlnet)
    # A repository with only a stray config (an aborted download by another tool) is not a usable model.
    stray = hub_cache / "models--x--partial" / "snapshots" / ("a" * 40)
    stray.mkdir(parents=True)
    (stray / "model_index.json").write_text("{}")
    entries = _by_name(library_entries())
    sd15 = entries[SD15]
    assert sd15.installed and sd15.origin == "hub-cache" and not sd15.app_downloaded
    size = sum(p.stat().st_size for p in tiny_model.rglob("*") if p.is_file())
    assert sd15.size_bytes == size
    assert entries["someone/my-finetune"].installed and entries["someone/my-finetune"].role == "base"
    assert entries["someone/my-controlnet"].role == "ControlNet"
    assert "x/partial" not in entries


def test_hidden_cached_models_leave_the_list(hub_cache, tiny_model):
    add_to_cache(hub_cache, "someone/my-finetune", tiny_model)
    assert "someone/my-finetune" not in _by_name(library_entries(hidden=["someone/my-finetune"]))


def test_user_folders_hold_diffusers_folders_and_checkpoint_files(tmp_path, tiny_model):
    from desktop.testing.tiny_single import save_tiny_single_file

    models = tmp_path / "models"
    models.mkdir()
    save_tiny_single_file(tiny_model, models / "comic.safetensors")
    (models / "old.ckpt").write_bytes(b"x")
    entries = _by_name(library_entries([str(models), str(tiny_model)], cache_dir=tmp_path / "none"))
    comic = entries[str(models / "comic.safetensors")]
    assert comic.origin == "file" and comic.family == "SD 1.x" and comic.installed
    assert "pickle" in entries[str(models / "old.ckpt")].family
    assert entries[str(tiny_model)].origin == "folder" and entries[str(tiny_model)].family == "SD"
    assert scan_user_path(tmp_path / "gone") == []


def test_only_app_downloaded_files_are_deleted(hub_cache, tiny_model):
    snapshot = add_to_cache(hub_cache, "someone/other-tool", tiny_model)
    with pytest.raises(RestyleError) as info:
        remove_download("someone/other-tool")
    assert "not downloaded by Restyle" in info.value.message
    assert (snapshot / "model_index.json").is_file()
    # A repository where Restyle wrote only the UNet: removing it deletes that file and nothing else.
    repo = hub_cache / "models--someone--mixed"
    snapshot = add_to_cache(hub_cache, "someone/mixed", tiny_model)
    ours = "unet/diffusion_pytorch_model.safetensors"
    (repo / "restyle-download.json").write_text(json.dumps({"revision": snapshot.name, "files": [ours, "../../x"]}))
    size = (snapshot / ours).stat().st_size
    assert remove_download("someone/mixed") == size
    assert not (snapshot / ours).exists() and (snapshot / "unet" / "config.json").is_file()
    assert (snapshot / "vae" / "diffusion_pytorch_model.safetensors").is_file()


def test_a_crafted_marker_revision_never_leads_remove_outside_the_cache(hub_cache, tiny_model, tmp_path):
    # "Remove…" used to join the marker's revision to snapshots/ unchecked: "../../.." reached the user's files.
    victim = tmp_path / "home" / "notes.txt"
    victim.parent.mkdir()
    victim.write_text("precious")
    snapshot = add_to_cache(hub_cache, "someone/crafted", tiny_model)
    repo = hub_cache / "models--someone--crafted"
    escape = "/".join([".."] * (len(snapshot.parts) + 2)) + str(victim.parent)
    for revision in (escape, "../../../home", "main", "0" * 39 + "/"):
        (repo / "restyle-download.json").write_text(json.dumps({"revision": revision, "files": ["notes.txt"]}))
        with pytest.raises(RestyleError) as info:
            remove_download("someone/crafted")
        assert "download record is damaged" in info.value.message
    assert victim.read_text() == "precious" and (snapshot / "model_index.json").is_file()


def test_a_linked_folder_in_the_snapshot_never_leads_remove_outside(hub_cache, tiny_model, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "config.json").write_text("keep")
    snapshot = add_to_cache(hub_cache, "someone/linked", tiny_model)
    (snapshot / "trap").symlink_to(outside, target_is_directory=True)
    repo = hub_cache / "models--someone--linked"
    (repo / "restyle-download.json").write_text(json.dumps({"revision": snapshot.name, "files": ["trap/config.json"]}))
    remove_download("someone/linked")
    assert (outside / "config.json").read_text() == "keep"
