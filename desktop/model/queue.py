"""JobQueue: the runs waiting their turn, as an observable list saved to disk after every change.

QtCore only. A job is a plain record: what kind of run it is, a snapshot of its parameters as a dict, where it
starts (a history node, an image file, or the result of the job before it in a planned chain) and its state.
Jobs that belong together (the cells of a sweep) share a group, whose record collects their results.

The file is replaced atomically (temp file, fsync, rename), so a crash or kill loses no waiting job. Jobs that
were running when the app stopped come back as waiting, and the queue comes back paused: nothing heavy starts
behind the artist's back at start-up; one click resumes it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.files import atomic_write, random_hex
from desktop.core.schemas import Damaged, check_group, check_job, keep_aside, read_json_file

log = logging.getLogger(__name__)

QUEUE_VERSION = 1
KINDS = ("generate", "chain", "sweep", "batch", "folder")
WAITING, RUNNING, BLOCKED = "waiting", "running", "blocked"


@dataclass
class Job:
    """One run waiting in the queue (or running, or blocked because the step it needs failed)."""

    id: str
    kind: str  # one of KINDS
    label: str  # what the queue panel shows
    params: dict  # GenerationParams.to_dict(); init_image is filled in when the run starts
    init_node: str | None = None  # start from this history node
    init_path: str | None = None  # or from this image file (it becomes an imported root)
    after: str | None = None  # or from the result of this job (a planned chain's previous step)
    group: str | None = None  # the sweep it is a cell of
    cell: int = 0  # its place in the group
    state: str = WAITING
    note: str = ""  # why it is blocked
    device: str = ""  # with several devices (Settings ▸ Devices at once): the one it must run on ("cpu-2"); "" any

    @classmethod
    def from_dict(cls, data: dict) -> Job:
        """Build from a saved dict, ignoring unknown keys; ValueError when it is not a job."""
        names = {f.name for f in fields(cls)}
        job = cls(**{k: v for k, v in data.items() if k in names})
        if not isinstance(job.params, dict) or job.kind not in KINDS or not isinstance(job.id, str):
            raise ValueError("not a job")
        return job


@dataclass
class Group:
    """Jobs whose results are assembled together when the last of them ends (a sweep's grid)."""

    id: str
    kind: str  # "sweep"
    parameter: str  # the GenerationParams field swept
    labels: list[str]  # one per cell, e.g. "strength 0.4"
    title: str = ""
    nodes: list = field(default_factory=list)  # the result node of each cell; "" for a cell that did not finish


def new_job_id() -> str:
    """A short random id (10 hex digits)."""
    return random_hex(5)


class JobQueue(QObject):
    """Waiting, running and blocked jobs in run order, the open groups, and whether the queue is paused."""

    changed = Signal()

    def __init__(self, path: Path | str):
        super().__init__()
        self.path = Path(path)
        self._jobs: list[Job] = []
        self._groups: dict[str, Group] = {}
        self._paused = False
        self.restored = 0  # waiting jobs found from the last session
        self.notice: str | None = None  # what was wrong with the saved queue, for a banner at start
        self._load()

    def switch(self, path: Path | str) -> None:
        """Save this queue and show the one kept at ``path`` (another workspace's); it comes back paused."""
        self._save()
        self.path = Path(path)
        self._jobs, self._groups, self._paused, self.restored, self.notice = [], {}, False, 0, None
        self._load()
        self.changed.emit()

    # --- reading -----------------------------------------------------------------------------------------
    @property
    def jobs(self) -> list[Job]:
        """Every job in run order (a copy of the list)."""
        return list(self._jobs)

    @property
    def paused(self) -> bool:
        """True while no new job starts by itself."""
        return self._paused

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        return next((j for j in self._jobs if j.id == job_id), None)

    def running(self) -> Job | None:
        """The job running now, or None."""
        return next((j for j in self._jobs if j.state == RUNNING), None)

    def next_ready(self) -> Job | None:
        """The first waiting job that does not wait for another's result."""
        return next((j for j in self._jobs if j.state == WAITING and j.after is None), None)

    def waiting_count(self) -> int:
        """How many jobs are still to run (blocked ones excluded)."""
        return sum(j.state == WAITING for j in self._jobs)

    def group(self, group_id: str) -> Group | None:
        """An open group."""
        return self._groups.get(group_id)

    # --- changing ----------------------------------------------------------------------------------------
    def add(self, jobs: list[Job], group: Group | None = None) -> None:
        """Append jobs (and their group) at the end of the queue."""
        if group is not None:
            group.nodes = [""] * len(group.labels)
            self._groups[group.id] = group
        self._jobs.extend(jobs)
        self._changed()

    def set_paused(self, paused: bool) -> None:
        """Pause (nothing new starts) or resume."""
        if paused != self._paused:
            self._paused = paused
            self._changed()

    def move(self, job_id: str, delta: int) -> bool:
        """Move a waiting or blocked job up (delta < 0) or down; the running job stays first."""
        job = self.get(job_id)
        if job is None or job.state == RUNNING:
            return False
        index = self._jobs.index(job)
        target = max(0, min(len(self._jobs) - 1, index + delta))
        if self._jobs[target].state == RUNNING:
            return False
        self._jobs.insert(target, self._jobs.pop(index))
        self._changed()
        return target != index

    def reorder(self, job_ids: list[str]) -> None:
        """Put the jobs in this order (a drag in the panel); the running job stays first, unknown ids are ignored."""
        by_id = {j.id: j for j in self._jobs}
        ordered = [by_id[i] for i in dict.fromkeys(job_ids) if i in by_id]
        ordered += [j for j in self._jobs if j not in ordered]
        ordered.sort(key=lambda j: j.state != RUNNING)  # stable: only the running job moves
        if ordered != self._jobs:
            self._jobs = ordered
        self._changed()  # also when nothing moved, so a view that moved a row alone is put right again

    def remove(self, job_id: str) -> Job | None:
        """Take a waiting or blocked job out; the jobs that needed its result become blocked."""
        job = self.get(job_id)
        if job is None or job.state == RUNNING:
            return None
        self._jobs.remove(job)
        self._block_dependents(job.id, "the step before it was removed")
        self._close_groups()
        self._changed()
        return job

    def start(self, job_id: str) -> None:
        """Mark a job as running."""
        job = self.get(job_id)
        if job is not None:
            job.state = RUNNING
            self._changed()

    def set_device(self, job_id: str, device: str) -> bool:
        """Pin a waiting or blocked job to one device ("" = any free one); False for a running or unknown job."""
        job = self.get(job_id)
        if job is None or job.state == RUNNING:
            return False
        if job.device != device:
            job.device = device
            self._changed()
        return True

    def requeue(self, job_id: str) -> None:
        """Put a running job back to waiting, where it is (it ran out of memory and will be retried)."""
        job = self.get(job_id)
        if job is not None:
            job.state = WAITING
            self._changed()

    def finish(self, job_id: str, node_id: str) -> list[Group]:
        """A job made history node ``node_id``: it leaves the queue, its dependents start from that node.

        Returns the groups this completed (every cell ended).
        """
        job = self.get(job_id)
        if job is None:
            return []
        self._jobs.remove(job)
        for other in self._jobs:
            if other.after == job.id:
                other.after, other.init_node = None, node_id
        if job.group in self._groups:
            self._groups[job.group].nodes[job.cell] = node_id
        done = self._close_groups()
        self._changed()
        return done

    def fail(self, job_id: str, reason: str) -> list[Group]:
        """A job failed or was cancelled: it leaves the queue and every step after it is blocked."""
        job = self.get(job_id)
        if job is None:
            return []
        self._jobs.remove(job)
        self._block_dependents(job.id, reason)
        done = self._close_groups()
        self._changed()
        return done

    def _block_dependents(self, job_id: str, reason: str) -> None:
        blocked = {job_id}
        changed = True  # a reordered queue may list a step before the one it needs: repeat until stable
        while changed:
            changed = False
            for other in self._jobs:
                if other.after in blocked and other.id not in blocked:
                    blocked.add(other.id)
                    if other.state != BLOCKED:
                        other.state, other.note = BLOCKED, reason
                    changed = True

    def _close_groups(self) -> list[Group]:
        active = {j.group for j in self._jobs if j.state != BLOCKED}
        done = [g for gid, g in self._groups.items() if gid not in active]
        for group in done:
            del self._groups[group.id]
        return done

    # --- disk --------------------------------------------------------------------------------------------
    def _set_aside(self, problem: str, *, kept: int) -> None:
        """Keep the damaged file under another name, so the next save cannot overwrite what it still holds."""
        log.warning("queue file %s: %s", self.path, problem)
        aside = keep_aside(self.path)
        where = f"it was kept as {aside.name}" if aside else "it could not be moved aside"
        self.notice = (f"The saved queue was damaged ({problem}); {kept} queued run{'' if kept == 1 else 's'} "
                       f"could be read, and {where} in {self.path.parent}.")

    def _changed(self) -> None:
        self._save()
        self.changed.emit()

    def _save(self) -> None:
        data = {"version": QUEUE_VERSION, "paused": self._paused, "jobs": [asdict(j) for j in self._jobs],
                "groups": [asdict(g) for g in self._groups.values()]}
        text = json.dumps(data, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, text)
        except OSError:
            log.exception("could not save the queue to %s", self.path)

    def _load(self) -> None:
        """Read queue.json through its schema; a damaged file is kept aside (never overwritten) and named."""
        try:
            data = read_json_file(self.path, "the queue file")
            if not isinstance(data, dict) or not isinstance(data.get("jobs", []), list) \
                    or not isinstance(data.get("groups", []), list):
                raise Damaged("the queue file is not a queue")
        except FileNotFoundError:
            return
        except Damaged as exc:
            self._set_aside(str(exc), kept=0)
            return
        jobs, dropped = [], 0
        for item in data.get("jobs", []):
            try:
                check_job(item, Job)
                job = Job.from_dict(item)
            except (TypeError, ValueError):
                dropped += 1
                continue
            if job.state == RUNNING:
                job.state = WAITING  # it was interrupted: it runs again from the start
            jobs.append(job)
        groups = {}
        for item in data.get("groups", []):
            try:
                check_group(item, Group)
                group = Group(**item)
            except (TypeError, ValueError):
                dropped += 1
                continue
            groups[group.id] = group
        if dropped:
            self._set_aside(f"{dropped} entr{'y was' if dropped == 1 else 'ies were'} damaged", kept=len(jobs))
        self._jobs, self._groups = jobs, groups
        self.restored = sum(j.state == WAITING for j in jobs)
        self._paused = bool(self.restored)
