"""Joining a Ray cluster: the checks of ``core.cluster_address`` first, then ``ray.init`` with token auth.

Only a cluster on this computer may be joined without a token; for any other, ``RAY_AUTH_MODE=token`` is set
before Ray starts, so the token is presented and Ray refuses to go on without one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import desktop
from desktop.core.cluster_address import AUTO, RAY_MISSING, ClusterAddress, parse_address, refusal
from desktop.core.errors import ErrorKind, RestyleError, bad_input

log = logging.getLogger(__name__)

# Passed to the actors of a cluster on this computer, so they read the same model cache as this process.
LOCAL_ENV = ("HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_ENDPOINT", "OMP_NUM_THREADS")


def ray_module():
    """``ray``, or a RestyleError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise bad_input(RAY_MISSING) from None
    return ray


def connect(text: str) -> ClusterAddress:
    """Join the cluster at ``text`` (``auto``: the one running on this computer, or a new one started here).

    Keeps this process's connection when there is one. Raises RestyleError with a sentence when Ray is missing,
    the address is refused or the cluster cannot be reached.
    """
    address = parse_address(text)
    problem = refusal(address)
    if problem:
        raise bad_input(problem)
    if not address.is_local:
        os.environ["RAY_AUTH_MODE"] = "token"  # present the token; Ray then refuses to go on without one
    ray = ray_module()
    if ray.is_initialized():
        return address
    if not address.is_local:
        _reread_auth_mode()
    common = {"runtime_env": {"env_vars": actor_env(address)}, "include_dashboard": False,
              "logging_level": logging.WARNING, "log_to_driver": False}
    try:
        if address.text == AUTO:
            try:
                ray.init(address=AUTO, **common)
            except ConnectionError:
                log.info("no Ray cluster runs on this computer: starting one for this process")
                ray.init(**common)
        else:
            ray.init(address=address.text, **common)
    except Exception as exc:  # Ray raises many kinds; the user gets one sentence, the log the rest
        log.exception("could not join the Ray cluster at %s", address.text)
        first = str(exc).splitlines()[0] if str(exc) else "no reason given"
        raise RestyleError(ErrorKind.UNAVAILABLE, f"The Ray cluster at {address.text} cannot be joined "
                           f"({type(exc).__name__}: {first}). Check the address, that the head runs (ray status "
                           "there) and the token, or choose Run on: this computer.") from None
    return address


def _reread_auth_mode() -> None:
    """Make Ray read RAY_AUTH_MODE again: it caches its settings when first imported, maybe before it was set."""
    try:
        from ray._raylet import Config

        Config.initialize("")
    except (ImportError, AttributeError):  # another Ray version: it reads the variable when it connects
        log.debug("could not refresh Ray's settings", exc_info=True)


def actor_env(address: ClusterAddress) -> dict[str, str]:
    """The actors' environment: on this computer, this process's code and model cache (on another node, its own)."""
    if not address.is_local:
        return {}
    env = {name: os.environ[name] for name in LOCAL_ENV if name in os.environ}
    code = str(Path(desktop.__file__).resolve().parent.parent)  # this checkout, not another installed copy
    env["PYTHONPATH"] = os.pathsep.join(p for p in (code, os.environ.get("PYTHONPATH", "")) if p)
    return env


def disconnect() -> None:
    """Leave the cluster (and stop it, when this process started it)."""
    try:
        import ray
    except ImportError:
        return
    if ray.is_initialized():
        ray.shutdown()
