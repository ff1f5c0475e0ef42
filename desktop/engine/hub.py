"""The Hugging Face cache and the Hub as the engine loads from them: the model index, the cached snapshot, and
load-from-cache-else-download with one sentence for every failure. Shared by models, single files, depth, upscale
and ControlNet."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from desktop.core.errors import model_missing
from desktop.core.hubcache import hub_cache_dir, is_offline
from desktop.core.sources import ModelSource

log = logging.getLogger(__name__)


def model_index(source: ModelSource) -> dict:
    """The checkpoint's model_index.json (from the folder or the Hub cache); {} when not available."""
    if source.is_local:
        path = Path(source.location) / "model_index.json"
    else:
        from huggingface_hub import try_to_load_from_cache

        from desktop.core.hubcache import hub_cache_dir

        cached = try_to_load_from_cache(source.location, "model_index.json", cache_dir=hub_cache_dir())
        if not isinstance(cached, str):
            return {}
        path = Path(cached)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise model_missing(f"The model's model_index.json cannot be read ({exc}).") from exc


def weights_variant(folder: Path | None) -> str | None:
    """"fp16" when a model folder holds some weights only as the fp16 variant (as the library downloads them
    for fp16 devices), so ``from_pretrained`` must ask for it; None otherwise."""
    if folder is None or not folder.is_dir():
        return None
    for part in [folder, *(p for p in folder.iterdir() if p.is_dir())]:
        names = [p.name for p in part.glob("*.safetensors")]
        fp16 = [n for n in names if ".fp16." in n or ".fp16-" in n]
        if fp16 and len(fp16) == len(names):
            return "fp16"
    return None


def cached_snapshot(repo_id: str) -> Path | None:
    """The Hub cache's snapshot folder of ``repo_id`` (the one refs/main points to), or None."""
    from huggingface_hub import try_to_load_from_cache


    for name in ("model_index.json", "config.json"):
        cached = try_to_load_from_cache(repo_id, name, cache_dir=hub_cache_dir())
        if isinstance(cached, str):
            return Path(cached).parent
    return None


def load_from_hub(loader, source: ModelSource, kwargs: dict, status: Callable[[str], None], *,
                  cancelled: Callable[[], bool] | None = None, allow_pickles: bool = False):

    def load(local_only: bool):
        variant = weights_variant(cached_snapshot(source.location)) if local_only else None
        return loader.from_pretrained(source.location, local_files_only=local_only, cache_dir=hub_cache_dir(),
                                      variant=variant, **kwargs)

    return load_cached_or_download(
        load,
        source.location, noun="model", subject=source.location, advice="choose a local diffusers folder",
        status=status, cancelled=cancelled, allow_pickles=allow_pickles,
    )


def load_cached_or_download(load: Callable[[bool], object], location: str, *, noun: str, subject: str,
                            advice: str, status: Callable[[str], None] = lambda s: None,
                            cancelled: Callable[[], bool] | None = None, allow_pickles: bool = False,
                            fetch: bool = True):
    """``load(local_only)`` from the Hub cache, else downloaded once; every failure becomes one sentence.

    The download is the library's (``desktop.core.downloads``): the files the app needs, bytes and rate in
    ``status``, stopped by ``cancelled``. Whatever the model still lacks after it (a Kandinsky decoder's prior,
    say) diffusers fetches itself. ``fetch=False`` leaves the whole download to diffusers (repositories that are
    not one model, such as IP-Adapter's).
    ``subject`` starts the sentences ("The depth model X"), ``advice`` ends them ("choose a local … folder").
    """
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        status(f"Loading {location} from the local Hugging Face cache…")
        return load(True)
    except (OSError, LocalEntryNotFoundError) as exc:
        if is_offline():
            raise model_missing(
                f"{subject} is not in the local Hugging Face cache and Restyle is offline. "
                f"Connect to the internet once to download it, or {advice}."
            ) from exc
    if fetch:
        from desktop.core.downloads import download

        status(f"Downloading {location} (once; later runs load it from the cache)…")
        download(location, allow_pickles=allow_pickles, cancelled=cancelled or (lambda: False),
                 on_progress=lambda p: status(f"Downloading {location}: {p.figures()}."))
        try:
            return load(True)
        except (OSError, LocalEntryNotFoundError):
            log.info("%s needs more than its own files; diffusers fetches the rest", location)
    status(f"Downloading {location} (once; later runs load it from the cache)…")
    try:
        return load(False)
    except RepositoryNotFoundError as exc:
        raise model_missing(
            f"There is no {noun} {location} on the Hugging Face Hub (or it needs a login). Check the id."
        ) from exc
    except OSError as exc:
        raise model_missing(
            f"{subject} is not in the local cache and could not be downloaded ({first_line(exc)}). "
            f"Check the connection, or {advice}."
        ) from exc


def hub_file(repo: str, filename: str, *, noun: str, advice: str, status: Callable[[str], None] = lambda s: None):
    """One file of a Hub repository (a LoRA, an IP-Adapter), from the cache or downloaded alone; its local path."""
    from huggingface_hub import hf_hub_download

    return load_cached_or_download(
        lambda local: hf_hub_download(repo, filename, cache_dir=hub_cache_dir(), local_files_only=local),
        f"{repo}/{filename}", noun=noun, subject=f"The {noun} {repo}/{filename}", advice=advice, status=status,
        fetch=False)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
