"""Where the work runs: this computer, or a Ray cluster at an address, and whether Restyle may join it.

Ray's token authentication (``RAY_AUTH_MODE=token``, Ray ≥ 2.52) is what stops anyone who can reach a cluster's
ports from running code on it. Restyle reads the token where Ray does (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH``,
``~/.ray/auth_token``) and never stores it; without one it refuses a cluster on another machine, with a sentence
saying how to enable tokens. A cluster on this computer is allowed either way. Stdlib only: the settings dialog
checks an address with this before anything imports Ray.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import bad_input

AUTO = "auto"
THIS_COMPUTER = ""  # the setting's value for "Run on: this computer"
RAY_MISSING = ("Running on a Ray cluster needs Ray, which is not installed here: pip install 'restyle[cluster]' "
               "(or choose Run on: this computer).")


@dataclass(frozen=True)
class ClusterAddress:
    """What the user typed, and the host it names ("" for auto)."""

    text: str  # "auto", "10.0.0.5:6379", "ray://gpu-box:10001"
    host: str

    @property
    def is_local(self) -> bool:
        """True for a cluster on this computer (auto, localhost, or one of this machine's own addresses)."""
        return self.text == AUTO or host_is_local(self.host)


def parse_address(text: str) -> ClusterAddress:
    """Read ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``; anything else is refused with a sentence."""
    text = (text or "").strip()
    if text == AUTO:
        return ClusterAddress(AUTO, "")
    try:
        parts = urlsplit(text if "://" in text else f"//{text}")
        host, _port = parts.hostname or "", parts.port  # .port raises ValueError for a port that is not a number
    except ValueError:
        host = ""
    if not host or parts.scheme not in ("", "ray") or parts.path not in ("", "/"):
        raise bad_input(f"“{text}” is not a Ray cluster address: give HOST:PORT (the head's address, port 6379 by "
                        "default), ray://HOST:10001, or auto for a cluster on this computer.")
    return ClusterAddress(text, host)


def host_is_local(host: str) -> bool:
    """True when ``host`` is this computer (loopback, its name, or one of its addresses)."""
    import ipaddress  # here, not at import: socket and ipaddress cost the window's start-up about 5 ms
    import socket

    if host in ("localhost", socket.gethostname(), socket.getfqdn()):
        return True
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    own = set()
    for name in {socket.gethostname(), socket.getfqdn()}:
        with contextlib.suppress(OSError):
            own |= {info[4][0] for info in socket.getaddrinfo(name, None)}
    return any(ipaddress.ip_address(a.split("%")[0]).is_loopback or a in own for a in addresses)


def token_source() -> str | None:
    """Where Ray will read the token from ("RAY_AUTH_TOKEN" or a file's path), or None when there is none."""
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return "RAY_AUTH_TOKEN"
    for path in (os.environ.get("RAY_AUTH_TOKEN_PATH", ""), str(Path.home() / ".ray" / "auth_token")):
        try:
            if path and Path(path).read_text(encoding="utf-8", errors="replace").strip():
                return path
        except OSError:
            continue
    return None


def refusal(address: ClusterAddress) -> str | None:
    """The sentence refusing to join ``address``, or None when Restyle may join it."""
    if address.is_local:
        return None
    if os.environ.get("RAY_AUTH_MODE", "").strip().lower() == "disabled":
        return (f"Restyle will not join the Ray cluster at {address.text} with token authentication turned off "
                "(RAY_AUTH_MODE=disabled): anyone who reaches it could run code there. Start the head with "
                "RAY_AUTH_MODE=token and unset RAY_AUTH_MODE here (see docs/CLUSTER.md).")
    if token_source() is None:
        return (f"Restyle will not join the Ray cluster at {address.text} without a token: anyone who reaches an "
                "unauthenticated cluster could run code there. On the head run `ray get-auth-token --generate` and "
                "start it with RAY_AUTH_MODE=token, then copy the token to ~/.ray/auth_token here or set "
                "RAY_AUTH_TOKEN (see docs/CLUSTER.md).")
    return None
