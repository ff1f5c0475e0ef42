"""Opening the pool a command asked for: N worker processes here, or the actors of a Ray cluster."""

from __future__ import annotations

from collections.abc import Callable


def open_pool(*, workers: int | None = None, cluster: str | None = None, device: str = "auto",
              allow_pickles: bool = False, status: Callable[[str], None] | None = None):
    """A LocalPool of ``workers`` processes, or (``cluster`` set) a RayPool on that cluster; ``close()`` ends it,
    and leaves the cluster when this call joined it."""
    say = status or (lambda message: None)
    if not cluster:
        from .local_pool import LocalPool

        pool = LocalPool(workers or 1, device=device, allow_pickles=allow_pickles)
        say(f"Running on {len(pool.slots)} devices here: {', '.join(s.label for s in pool.slots)}.")
        return pool
    from .connect import connect, ray_module

    joined_here = not ray_module().is_initialized()
    address = connect(cluster)
    from .ray_pool import RayPool

    pool = RayPool(workers, allow_pickles=allow_pickles, leave_on_close=joined_here)
    where = "this computer's Ray cluster" if address.is_local else f"the Ray cluster at {address.text}"
    say(f"Running on {len(pool.slots)} actors of {where}.")
    return pool


def cluster_engine(cluster: str, *, allow_pickles: bool = False, status: Callable[[str], None] | None = None):
    """A PoolEngine on one actor of the Ray cluster at ``cluster``: an Engine's calls, run there."""
    from .pool_engine import PoolEngine

    pool = open_pool(workers=1, cluster=cluster, allow_pickles=allow_pickles, status=status)
    return PoolEngine(pool, status=status, gone_message=f"The Ray cluster at {cluster} went away before the picture "
                      "was done; nothing was saved. Run it again, or without --cluster to run here.")
