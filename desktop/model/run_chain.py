"""RunChain: runs that follow the current one by themselves: auto-continue passes and the steps of a replay.

QtCore only, owned by the session (which it drives through ``continue_from``, ``clear_init_image`` and
``start_run``). Auto-continue (loopback) chains each result into the next pass with the strength going
linearly from the slider to an end value; a replay re-runs a branch from its root with one setting changed.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from desktop.core.errors import RestyleError
from desktop.core.history import replay_plan
from desktop.core.params import GenerationParams, GenerationResult

from .depth_state import replay_depth


class RunChain(QObject):
    """The passes or replay steps still to come after the running one."""

    def __init__(self, session):
        super().__init__()
        self._session = session
        # Enabled, passes, end strength: as the artist left them, across restarts.
        self.auto_continue: tuple[bool, int, float | None] = session.settings.auto_continue
        self._strengths: list[float] | None = None  # loopback: the strength of each remaining pass
        self._replay: list | None = None  # ReplayStep objects still to run

    @property
    def active(self) -> bool:
        """True while passes or replay steps are still to come (a queued job waits for them)."""
        return self._strengths is not None or self._replay is not None

    def stop(self) -> None:
        """Drop whatever was still to come (a cancel, a failure, another kind of run)."""
        self._strengths = self._replay = None

    def set_auto_continue(self, enabled: bool, passes: int, end_strength: float | None) -> None:
        """Loopback: ``passes`` in a row, strength from the slider's value to ``end_strength`` (None: constant)."""
        self.auto_continue = (enabled, max(1, passes), end_strength)
        self._session.settings.auto_continue = self.auto_continue

    def loopback_strengths(self) -> list[float]:
        """The strength of each auto-continue pass the next Generate makes; [] when it makes one run."""
        enabled, passes, end = self.auto_continue
        session = self._session
        strength = session.params.strength
        if not (enabled and passes > 1 and session.init_image is not None):
            return []
        last = strength if end is None else end
        return [round(strength + (last - strength) * k / (passes - 1), 3) for k in range(passes)]

    def start_loopback(self) -> bool:
        """Start the first run of a Generate: its auto-continue passes follow."""
        curve = self.loopback_strengths()
        self._replay = None
        self._strengths = curve[1:] if curve else None
        return self._session.start_run(self._session.params)

    def replay(self, node_id: str, changes: dict) -> bool:
        """Re-run the branch from its root to ``node_id`` with ``changes``; the results form a sibling branch."""
        session = self._session
        tree, workspace = session.history.tree, session.history.workspace
        root = tree.path_to_root(node_id)[0]
        try:
            steps = replay_plan(tree, node_id, changes, root_image=str(workspace.image_path(root)))
            for step in steps:
                GenerationParams.from_dict({**step.params, "width": None, "height": None}).validate()
        except (ValueError, RestyleError) as exc:
            session.error_raised.emit("bad_input", getattr(exc, "message", None) or str(exc))
            return False
        self._strengths, self._replay = None, steps
        return self._next_replay_step(previous=None)

    def after_result(self, result: GenerationResult) -> None:
        """A run finished: start the next pass or replay step, if any."""
        session = self._session
        if not self.active or session.history.selected_id is None:
            return
        if self._replay is not None:
            self._next_replay_step(previous=result)
        elif self._strengths:
            strength = self._strengths.pop(0)
            if session.continue_from(session.history.selected_id):
                session.start_run(session.params.replace(strength=strength))
        else:
            self.stop()

    def _next_replay_step(self, previous: GenerationResult | None) -> bool:
        session = self._session
        if not self._replay:
            self.stop()
            if previous is not None:
                session.status_changed.emit("Replay finished: the new branch sits beside the old one.")
            return False
        step = self._replay.pop(0)
        # The size is fitted again, so a replay with another model runs at that model's own resolution.
        params = GenerationParams.from_dict({**step.params, "width": None, "height": None})
        history = session.history
        if step.source_id in history.tree:
            params = replay_depth(params, history.tree.get(step.source_id), history.workspace)
        if step.chain_previous:
            ok = previous is not None and session.continue_from(previous.history_nodes[-1].id)
        elif step.parent is not None:
            ok = session.continue_from(step.parent)
        else:
            session.clear_init_image()
            ok = True
        return ok and session.start_run(params, use_depth_panel=False, replay_of=step.source_id)
