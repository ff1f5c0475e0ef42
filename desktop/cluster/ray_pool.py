"""RayPool: one actor per GPU (or per ``restyle_slot`` resource) of a Ray cluster, each owning its pipelines.

Each job is one call of the actor's streaming generator: steps, status lines and the outcome come back as they
happen, read by a thread of this process into one queue. ``ray.cancel`` on the call is seen by the actor at the
next step (``is_canceled``), so Cancel stops a remote run within one step. An actor that dies mid-job (killed,
its node lost) is reported as LOST, and the dispatcher runs the job again on another.
"""

from __future__ import annotations

import logging
import queue
import threading

import ray

from desktop.core.errors import RestyleError

from .events import ERROR, LOST, READY, RESULT, STATUS, STEP, DeviceEvent, Slot, note_event

log = logging.getLogger(__name__)

# Actor handles by (Ray job of this connection, kind, index), kept for this process's next pool.
_kept: dict[tuple, object] = {}
SLOT_RESOURCE = "restyle_slot"  # a custom resource: one per "device" on nodes without GPUs (tests, CPU farms)
POLL_S = 0.05


@ray.remote(max_restarts=0, max_task_retries=0)
class PipelineActor:
    """A pipeline owner on a cluster node: its device is the GPU (or slot) Ray gave it."""

    def __init__(self, threads: int | None, allow_pickles: bool):
        from .owner import PipelineOwner

        self._status: queue.Queue = queue.Queue()
        self.owner = PipelineOwner(threads=threads, allow_pickles=allow_pickles, status=self._status.put)

    def describe(self) -> dict:
        """Host, process and device (answered once torch has loaded: the actor is ready)."""
        return {**self.owner.describe(), "node": ray.get_runtime_context().get_node_id()}

    @ray.method(num_returns="streaming")
    def run(self, job):
        """Run ``job``, yielding (kind, payload): "status", "step" (StepInfo), then "result" or "error"."""
        context = ray.get_runtime_context()
        cancel = threading.Event()
        out: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                outcome = self.owner.run(job, on_step=lambda step: out.put((STEP, step)), cancelled=cancel.is_set)
            except RestyleError as exc:
                out.put((ERROR, (exc.kind.value, exc.message)))
            except Exception as exc:  # noqa: BLE001 - the actor must outlive anything a library throws
                from .local_pool import internal_error

                out.put((ERROR, internal_error(exc, job)))
            else:
                out.put((RESULT, outcome))

        # The pipeline runs on a thread of the actor so this generator can yield its steps as they come.
        thread = threading.Thread(target=work, name=f"restyle-job-{job.job_id}", daemon=True)
        thread.start()
        try:
            while True:
                if context.is_canceled():
                    cancel.set()  # the engine stops at the end of the step in progress
                while not self._status.empty():
                    yield STATUS, self._status.get()
                try:
                    kind, payload = out.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                yield kind, payload
                if kind in (RESULT, ERROR):
                    return
        finally:
            # However this call ends (Ray may interrupt it on a cancel), the run stops before the next job
            # starts: two threads in one pipeline corrupt its scheduler.
            cancel.set()
            thread.join()


def plan_actors(resources: dict, workers: int | None) -> tuple[int, dict, int | None, str]:
    """(how many actors, their Ray options, torch threads each, what a slot is called) for these resources."""
    cpus = int(resources.get("CPU", 1))
    if resources.get("GPU", 0) >= 1:
        count = int(resources["GPU"])
        options, threads, noun = {"num_gpus": 1, "num_cpus": 1}, None, "GPU"
    elif resources.get(SLOT_RESOURCE, 0) >= 1:
        count = int(resources[SLOT_RESOURCE])
        threads = max(1, cpus // count)
        options, noun = {"resources": {SLOT_RESOURCE: 1}, "num_cpus": 0}, "slot"
    else:  # CPUs only: split them between the actors
        count = max(1, min(workers or 1, cpus))
        threads = max(1, cpus // count)
        options, noun = {"num_cpus": threads}, "CPU actor"
    if workers:
        count = min(count, workers)
    return count, options, threads, noun


class RayPool:
    """Actors on the cluster this process has joined (see ``connect.connect``)."""

    def __init__(self, workers: int | None = None, *, allow_pickles: bool = False, leave_on_close: bool = False):
        count, options, threads, noun = plan_actors(ray.cluster_resources(), workers)
        self._leave_on_close = leave_on_close  # this process joined the cluster for this pool alone
        self._keys: dict[str, tuple] = {}  # slot id -> its actor's key in _kept
        self._events: queue.Queue = queue.Queue()
        self._actors: dict[str, object] = {}
        self._calls: dict[str, object] = {}  # job id -> its streaming call (for cancel)
        self.slots: list[Slot] = []
        for index in range(count):
            # Kept for this process's later pools (the next batch, the window's next run): they find the same
            # actors with their pipelines still loaded. An actor ends with its last handle, so the handles are kept.
            key = (ray.get_runtime_context().get_job_id(), noun, index)
            actor = _kept.get(key)
            if actor is None:
                actor = _kept[key] = PipelineActor.options(**options).remote(threads, allow_pickles)
            self._keys[f"ray-{index + 1}"] = key
            slot = Slot(f"ray-{index + 1}", f"{noun} {index + 1} on the cluster")
            self._actors[slot.id] = actor
            self.slots.append(slot)
            threading.Thread(target=self._await_ready, args=(slot, actor), daemon=True).start()

    def _await_ready(self, slot: Slot, actor) -> None:
        try:
            info = ray.get(actor.describe.remote())
        except Exception as exc:  # noqa: BLE001 - an actor that never starts is a lost device
            self._events.put(DeviceEvent(LOST, slot.id, "", f"{slot.label} did not start ({type(exc).__name__})"))
            return
        slot.label = f"{slot.label.split(' on ')[0]} on {info['host']}"
        self._events.put(DeviceEvent(READY, slot.id, "", info))

    def submit(self, slot: Slot, job) -> None:
        """Start ``job`` on ``slot``'s actor; its events are read by a thread of this process."""
        slot.job = job.job_id
        call = self._actors[slot.id].run.remote(job)
        self._calls[job.job_id] = call
        threading.Thread(target=self._read, args=(slot, job.job_id, call), daemon=True).start()

    def _read(self, slot: Slot, job_id: str, call) -> None:
        try:
            for ref in call:
                kind, payload = ray.get(ref)
                self._events.put(DeviceEvent(kind, slot.id, job_id, payload))
        except ray.exceptions.TaskCancelledError:
            self._events.put(DeviceEvent(ERROR, slot.id, job_id, ("cancelled", "Cancelled; nothing was saved.")))
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
            log.warning("actor %s lost mid-job: %s", slot.id, exc)
            self._events.put(DeviceEvent(LOST, slot.id, job_id, f"{slot.label} was lost"))
        except Exception as exc:  # the cluster went away, or anything else Ray raises
            log.exception("reading job %s from %s failed", job_id, slot.id)
            self._events.put(DeviceEvent(LOST, slot.id, job_id, f"{slot.label} stopped answering "
                                         f"({type(exc).__name__})"))

    def cancel(self, job_id: str) -> None:
        """Stop ``job_id`` within one step."""
        call = self._calls.get(job_id)
        if call is not None:
            try:
                ray.cancel(call)
            except Exception:  # already finished or its actor gone: nothing left to stop
                log.debug("cancel of %s had nothing to stop", job_id, exc_info=True)

    def wake(self) -> None:
        """End the ``next_event`` under way now (from any thread): something is waiting to be dispatched."""
        self._events.put(None)

    def next_event(self, timeout: float = 0.1) -> DeviceEvent | None:
        """The next event of any actor, or None after ``timeout`` (or once ``wake`` is called)."""
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return None
        if event is None:  # woken
            return None
        slot = note_event(self.slots, event)
        if event.kind in (RESULT, ERROR):
            self._calls.pop(event.job_id, None)
        elif event.kind == LOST and slot is not None:
            self.slots.remove(slot)
            self._actors.pop(slot.id, None)
            _kept.pop(self._keys.get(slot.id), None)  # the next pool starts a fresh actor in its place
        return event

    def actor(self, slot_id: str):
        """The actor handle of a slot (tests kill one to check that its job is redone)."""
        return self._actors.get(slot_id)

    def close(self) -> None:
        """Stop the running jobs. When this pool joined the cluster, leave it: its actors end with the connection
        (their pipelines are freed on the nodes); else they stay for this process's next pool."""
        for job_id in list(self._calls):
            self.cancel(job_id)
        self._actors.clear()
        self.slots = []
        if self._leave_on_close:
            _kept.clear()
            ray.shutdown()
