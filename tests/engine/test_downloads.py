"""Downloads against a loopback Hub: only the needed files, progress, cancel, resume, dropped connections and
server errors, into the Hugging Face cache where the engine then loads the model offline."""

import numpy as np
import pytest

from desktop.core.downloads import DownloadCancelled, RemoteFile, download, select_files
from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.hubcache import repo_folder
from desktop.core.library import library_entries, remove_download
from tests.hub_helpers import REVISION

REPO = "artist/tiny-style"
JUNK = {
    "v1-5-pruned-emaonly.safetensors": b"single-file copy" * 100,
    "unet/diffusion_pytorch_model.bin": b"pickle" * 100,
    "unet/diffusion_pytorch_model.non_ema.safetensors": b"ema" * 100,
    "onnx/unet/model.onnx": b"onnx" * 100,
    "README.md": b"# tiny",
    ".gitattributes": b"*.bin lfs",
}


def _needed(tiny_model):
    return {p.relative_to(tiny_model).as_posix() for p in tiny_model.rglob("*") if p.is_file()
            and p.suffix in (".json", ".txt", ".safetensors")}


@pytest.fixture()
def served(fake_hub, tiny_model, hub_cache):
    fake_hub.add_folder(REPO, tiny_model, JUNK)
    return fake_hub


def test_only_the_needed_files_are_fetched_with_byte_progress_and_the_model_loads_offline(
        served, tiny_model, hub_cache, monkeypatch, make_image):
    progress = []
    snapshot = download(REPO, on_progress=progress.append)
    fetched = {path.split("/resolve/")[1].split("/", 1)[1] for path, _ in served.file_requests()}
    assert fetched == _needed(tiny_model)  # no .bin, EMA, ONNX, README or single-file copy
    total = sum((tiny_model / p).stat().st_size for p in fetched)
    assert progress[-1].done == progress[-1].total == total
    assert [p.done for p in progress] == sorted(p.done for p in progress) and len(progress) >= 2
    assert any(p.rate > 0 for p in progress)
    assert (snapshot / "unet" / "diffusion_pytorch_model.safetensors").read_bytes() == \
        (tiny_model / "unet" / "diffusion_pytorch_model.safetensors").read_bytes()
    entry = next(e for e in library_entries() if e.name == REPO)
    assert entry.installed and entry.app_downloaded
    # The engine finds it in the cache, offline, by its Hub id.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from desktop.core.params import GenerationParams
    from desktop.engine.runner import Engine

    params = GenerationParams(model=REPO, prompt="x", init_image=str(make_image(size=(64, 64))), steps=2, seed=1)
    from_hub = np.asarray(Engine().generate(params).image)
    from_folder = np.asarray(Engine().generate(params.replace(model=str(tiny_model))).image)
    assert np.array_equal(from_hub, from_folder)


def test_cancel_stops_at_once_keeps_finished_files_and_the_next_download_fetches_only_the_rest(
        served, tiny_model, hub_cache):
    served.throttle_s = 0.01  # 64 KiB per 10 ms: the 5.7 MB UNet takes about a second
    seen = []

    def cancelled():
        return bool(seen) and seen[-1].done > 1_500_000

    with pytest.raises(DownloadCancelled) as info:
        download(REPO, on_progress=seen.append, cancelled=cancelled)
    assert info.value.kind is ErrorKind.CANCELLED and "fetches only the rest" in info.value.message
    assert seen[-1].done < seen[-1].total - 2_000_000  # stopped within a chunk, not at the end
    assert not any(e.installed for e in library_entries() if e.name == REPO)  # half a model is not installed
    snapshot = repo_folder(REPO) / "snapshots" / REVISION
    finished = {p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file()}
    assert finished  # the small files that arrived before the cancel
    served.requests.clear()
    served.throttle_s = 0.0
    resumed = []
    snapshot = download(REPO, on_progress=resumed.append)
    fetched = {path.split("/resolve/")[1].split("/", 1)[1] for path, _ in served.file_requests()}
    assert fetched and not fetched & finished  # nothing that had arrived is fetched again
    assert fetched | finished == _needed(tiny_model)
    assert resumed[-1].done == resumed[-1].total
    unet = "unet/diffusion_pytorch_model.safetensors"
    assert (snapshot / unet).read_bytes() == (tiny_model / unet).read_bytes()
    assert any(e.installed for e in library_entries() if e.name == REPO)


def test_a_dropped_connection_is_resumed_without_the_user_doing_anything(served, tiny_model):
    served.drop_after = 1_500_000  # after the first 1 MiB chunk of the UNet has arrived
    snapshot = download(REPO)
    assert any(r for _, r in served.file_requests())  # huggingface_hub continued with a Range request
    unet = "unet/diffusion_pytorch_model.safetensors"
    assert (snapshot / unet).read_bytes() == (tiny_model / unet).read_bytes()


def test_a_server_error_is_one_sentence_and_installs_nothing(served):
    served.fail_with = 500
    with pytest.raises(RestyleError) as info:
        download(REPO)
    assert "HTTP 500" in info.value.message and REPO in info.value.message
    assert not repo_folder(REPO).exists()


def test_an_unknown_repository_says_so(served):
    with pytest.raises(RestyleError) as info:
        download("nobody/nothing")
    assert "There is no model nobody/nothing" in info.value.message


def test_offline_says_so_at_once(served, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RestyleError) as info:
        download(REPO)
    assert "offline" in info.value.message and served.requests == []


def test_an_unreachable_hub_says_so_instead_of_hanging(hub_cache, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    with pytest.raises(RestyleError) as info:
        download(REPO)
    assert "cannot reach" in info.value.message and "internet connection" in info.value.message


def test_pickle_only_repositories_are_refused_unless_allowed(fake_hub, hub_cache):
    fake_hub.repos["old/pickled"] = {"model_index.json": b"{}", "unet/config.json": b"{}",
                                     "unet/diffusion_pytorch_model.bin": b"x" * 10}
    with pytest.raises(RestyleError) as info:
        download("old/pickled")
    assert "only as pickle" in info.value.message and "Allow pickle checkpoints" in info.value.message
    snapshot = download("old/pickled", allow_pickles=True)
    assert (snapshot / "unet" / "diffusion_pytorch_model.bin").is_file()


def test_removing_a_download_deletes_what_restyle_wrote(served, hub_cache):
    download(REPO)
    assert remove_download(REPO) > 0
    assert not repo_folder(REPO).exists()
    assert not any(e.name == REPO for e in library_entries())


def _files(*names):
    return [RemoteFile(n, 10) for n in names]


def test_fp16_picks_the_fp16_variant_and_fp32_the_plain_weights():
    files = _files("model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                   "unet/diffusion_pytorch_model.fp16.safetensors", "vae/diffusion_pytorch_model.safetensors",
                   "text_encoder/model.fp16-00001-of-00002.safetensors",
                   "text_encoder/model.fp16-00002-of-00002.safetensors",
                   "text_encoder/model.safetensors.index.fp16.json", "text_encoder/model.safetensors.index.json",
                   "text_encoder/model-00001-of-00002.safetensors", "text_encoder/model-00002-of-00002.safetensors")
    fp16 = {f.path for f in select_files(files, fp16=True)}
    assert fp16 == {"model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.fp16.safetensors",
                    "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.fp16-00001-of-00002.safetensors",
                    "text_encoder/model.fp16-00002-of-00002.safetensors",
                    "text_encoder/model.safetensors.index.fp16.json"}
    fp32 = {f.path for f in select_files(files, fp16=False)}
    assert "unet/diffusion_pytorch_model.safetensors" in fp32 and not any(".fp16" in p for p in fp32)
    assert "text_encoder/model.safetensors.index.json" in fp32
    configs = {f.path for f in select_files(files, fp16=True, configs_only=True)}
    assert configs == {"model_index.json", "unet/config.json"}


def test_an_fp16_download_takes_the_fp16_weights_and_still_loads(fake_hub, tiny_model, hub_cache, monkeypatch):
    from safetensors.torch import load_file, save_file

    unet = "unet/diffusion_pytorch_model.safetensors"
    half = {k: v.half() for k, v in load_file(tiny_model / unet).items()}
    fp16_path = hub_cache.parent / "unet.fp16.safetensors"
    save_file(half, fp16_path)
    fake_hub.add_folder(REPO, tiny_model, {"unet/diffusion_pytorch_model.fp16.safetensors": fp16_path.read_bytes()})
    snapshot = download(REPO, fp16=True)
    assert (snapshot / "unet" / "diffusion_pytorch_model.fp16.safetensors").is_file()
    assert not (snapshot / unet).exists()  # half the bytes, not both copies
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from desktop.engine.runner import Engine

    info = Engine().load(REPO, "cpu")  # fails ("no file named …") unless the fp16 variant is asked for
    assert info.family == "sd" and info.name == REPO


@pytest.mark.parametrize("name", ["/x.json", "../x.json", "unet/../../x.json", "a\\..\\x.json"])
def test_a_hub_file_name_outside_the_model_is_refused_and_nothing_is_written(fake_hub, tiny_model, hub_cache, name):
    fake_hub.add_folder(REPO, tiny_model, {name: b'{"evil": true}'})
    with pytest.raises(RestyleError) as info:
        download(REPO)
    assert "points outside" in info.value.message
    assert not repo_folder(REPO).exists() or not any(repo_folder(REPO).rglob("x.json"))
    assert not (hub_cache / "x.json").exists() and not (hub_cache.parent / "x.json").exists()


def test_generate_downloads_a_missing_model_with_the_same_downloader_showing_bytes_and_rate(
        served, tiny_model, hub_cache, make_image):
    from desktop.core.params import GenerationParams
    from desktop.engine.runner import Engine

    said = []
    params = GenerationParams(model=REPO, prompt="x", init_image=str(make_image(size=(64, 64))), steps=2, seed=1)
    result = Engine(status=said.append).generate(params)
    assert result.model.name == REPO
    fetched = {path.split("/resolve/")[1].split("/", 1)[1] for path, _ in served.file_requests()}
    assert fetched == _needed(tiny_model)  # the library's choice of files: no .bin, EMA, ONNX or README
    assert any(" of " in s and "MB" in s and REPO in s for s in said)  # bytes as they arrive
    assert any(e.app_downloaded for e in library_entries() if e.name == REPO)  # Remove… can delete it


def test_cancel_stops_the_download_a_generate_needs(served, hub_cache, make_image):
    from desktop.core.params import GenerationParams
    from desktop.engine.runner import Engine

    served.throttle_s = 0.01
    said = []
    params = GenerationParams(model=REPO, prompt="x", init_image=str(make_image(size=(64, 64))), steps=2, seed=1)
    with pytest.raises(RestyleError) as info:
        Engine(status=said.append).generate(params, cancelled=lambda: any(" of " in s for s in said))
    assert info.value.kind is ErrorKind.CANCELLED
    assert not any(e.installed for e in library_entries() if e.name == REPO)


def test_cancel_also_stops_the_download_an_upscale_needs(fake_hub, tiny_x2_upscaler, hub_cache, make_image):
    # ControlNets and preview decoders loaded during a generate take the same cancel check (runner._cancelled).
    from desktop.core.upscale import UpscaleParams
    from desktop.engine.upscale import Upscaler

    fake_hub.throttle_s = 0.01
    fake_hub.add_folder("artist/tiny-x2", tiny_x2_upscaler)
    said = []
    params = UpscaleParams(kind="x2", image=str(make_image(size=(64, 64))), model="artist/tiny-x2", steps=2)
    with pytest.raises(RestyleError) as info:
        Upscaler(status=said.append).run(params, cancelled=lambda: any(" of " in s for s in said))
    assert info.value.kind is ErrorKind.CANCELLED
    assert any(" of " in s for s in said)  # it was downloading, with bytes shown, when Cancel came
    assert not any(e.installed for e in library_entries() if e.name == "artist/tiny-x2")  # stopped, not finished


def test_cancel_also_stops_the_download_a_depth_estimate_needs(fake_hub, tiny_depth_model, hub_cache, make_image,
                                                               monkeypatch):
    from PIL import Image

    from desktop.engine.depth import DepthEstimator

    fake_hub.throttle_s = 0.01
    fake_hub.add_folder("artist/tiny-depth", tiny_depth_model)
    said = []
    image = Image.open(make_image(size=(64, 64)))
    with pytest.raises(RestyleError) as info:
        DepthEstimator(status=said.append).estimate(image, "artist/tiny-depth",
                                                    cancelled=lambda: any(" of " in s for s in said))
    assert info.value.kind is ErrorKind.CANCELLED
    assert any(" of " in s and "artist/tiny-depth" in s for s in said)  # the download showed its bytes
    assert not any(e.installed for e in library_entries() if e.name == "artist/tiny-depth")
    # The rest downloaded later, the estimator loads it from the cache the downloader wrote to, offline.
    fake_hub.throttle_s = 0.0
    download("artist/tiny-depth")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    depth = DepthEstimator().estimate(image, "artist/tiny-depth")
    assert depth.size == image.size
