"""What a device pool reports, and the slots it runs on. Plain data: no torch, no Ray, no Qt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Event kinds: a status line, a finished step (StepInfo), the job's outcome (result: GenerationResult or ModelInfo;
# error: (ErrorKind value, sentence)), and a device lost with the job it was running.
STATUS, STEP, RESULT, ERROR, LOST, READY = "status", "step", "result", "error", "lost", "ready"


@dataclass(frozen=True)
class DeviceEvent:
    """One thing a device said: ``kind`` is one of the constants above; ``job_id`` is "" when no job."""

    kind: str
    slot: str
    job_id: str = ""
    payload: Any = None


@dataclass
class Slot:
    """One device of a pool: a worker process on this computer or an actor on a cluster node."""

    id: str  # "cpu-1", "cuda-0", "ray-2"
    label: str  # what the window and the CLI show: "CPU worker 1 (1 thread)", "GPU 0 on node gpu-box"
    model: str = ""  # the model it has loaded ("" none yet): a job for that model prefers this slot
    job: str = ""  # the job it runs ("" when free)
    ready: bool = False  # its pipeline owner has started (loading torch takes seconds)
    info: dict = field(default_factory=dict)  # where it runs, once ready: host, pid, device

    @property
    def free(self) -> bool:
        """True when it can take a job now."""
        return not self.job


def note_event(slots: list[Slot], event: DeviceEvent) -> Slot | None:
    """Update the slot ``event`` came from (started, free again); returns that slot, or None when it is gone."""
    slot = next((s for s in slots if s.id == event.slot), None)
    if slot is not None:
        if event.kind == READY:
            slot.ready, slot.info = True, event.payload
        elif event.kind in (RESULT, ERROR) and slot.job == event.job_id:
            slot.job = ""
    return slot
