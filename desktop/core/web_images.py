"""Images dragged from a web browser: an http/https URL fetched with a size cap and a timeout.

Stdlib only (urllib): a dropped URL is one small file, with none of the Hub's resume or snapshot needs.
Every way it can go wrong ends in one RestyleError sentence the artist can act on.
"""

from __future__ import annotations

import os
import re
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from .errors import ErrorKind, RestyleError, bad_input

MAX_URL_BYTES = 50 * 1024**2  # far above any picture a browser shows; stops a video or an endless stream
URL_TIMEOUT_S = 20.0
_CHUNK = 64 * 1024
_SUFFIX_BY_TYPE = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
                   "image/bmp": ".bmp", "image/tiff": ".tif", "image/apng": ".png"}


def is_web_url(text: str) -> bool:
    """True for an http or https URL."""
    return urllib.parse.urlsplit(text.strip()).scheme.lower() in ("http", "https")


def url_file_name(url: str, content_type: str = "") -> str:
    """A safe file name for what ``url`` points at ("landscape.jpg"), with a suffix from the content type
    when the URL has none."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    name = re.sub(r"[^\w.\-]+", "_", path.rsplit("/", 1)[-1]).strip("._") or "web-image"
    suffix = _SUFFIX_BY_TYPE.get(content_type.split(";")[0].strip().lower(), "")
    if "." not in name and suffix:
        name += suffix
    return name[:100]


def fetch_image(url: str, folder: Path, *, offline: bool = False, max_bytes: int = MAX_URL_BYTES,
                timeout: float = URL_TIMEOUT_S, on_progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> Path:
    """Download ``url`` into ``folder`` and return the file; RestyleError (bad input) with a sentence when it
    cannot. ``on_progress(done, total)`` gets the bytes so far (total 0 when the server does not say)."""
    host = urllib.parse.urlsplit(url).hostname or url
    if not is_web_url(url):
        raise bad_input(f"{url} is not a web address (http or https).")
    if offline:
        raise bad_input(f"Restyle is offline, so it cannot fetch the image from {host}. Save the image from the "
                        "browser and drop the file instead.")
    # Here, not at the top: urllib.request brings http.client, email and ssl, about 25 ms of the window's
    # start-up (is_web_url runs on every drop and needs only urllib.parse).
    from urllib.error import HTTPError, URLError
    from urllib.request import Request, urlopen

    request = Request(url, headers={"User-Agent": "Restyle", "Accept": "image/*"})  # noqa: S310 - http(s) checked above
    deadline = time.monotonic() + timeout
    try:
        with urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked above
            content_type = response.headers.get("Content-Type", "")
            if content_type and not content_type.lower().startswith(("image/", "application/octet-stream")):
                raise bad_input(f"{host} sent {content_type.split(';')[0]}, not an image. Drag the picture itself, "
                                "or save it and drop the file.")
            total = int(response.headers.get("Content-Length") or 0)
            if total > max_bytes:
                raise bad_input(_too_large(host, total, max_bytes))
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{url_file_name(url, content_type)}"
            partial = target.with_name(target.name + ".part")
            done = 0
            try:
                with open(partial, "wb") as out:
                    while chunk := response.read(_CHUNK):
                        done += len(chunk)
                        if done > max_bytes:
                            raise bad_input(_too_large(host, done, max_bytes))
                        if cancelled is not None and cancelled():
                            raise RestyleError(ErrorKind.CANCELLED, "The download was cancelled.")
                        if time.monotonic() > deadline:
                            raise TimeoutError
                        out.write(chunk)
                        if on_progress is not None:
                            on_progress(done, total)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            return target
    except HTTPError as exc:
        raise bad_input(f"{host} answered {exc.code} ({exc.reason}) for that image; it may need a login or be "
                        "gone. Save it from the browser and drop the file instead.") from None
    except TimeoutError:  # socket.timeout is TimeoutError
        raise bad_input(f"{host} did not send the image within {timeout:g} s. Try again, or save it from the "
                        "browser and drop the file.") from None
    except URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or exc.reason
        if isinstance(exc.reason, TimeoutError):
            raise bad_input(f"{host} did not answer within {timeout:g} s. Try again, or save the image from the "
                            "browser and drop the file.") from None
        raise bad_input(f"Restyle could not reach {host} ({reason}). Check the connection, or save the image "
                        "from the browser and drop the file.") from None
    except OSError as exc:
        raise bad_input(f"The image from {host} could not be saved: {exc.strerror or exc}.") from None


def _too_large(host: str, size: int, limit: int) -> str:
    return (f"The file at {host} is larger than {limit / 1024**2:g} MB ({size / 1024**2:.1f} MB so far), too large "
            "for a picture to restyle; save a smaller version and drop that.")
