"""QueueRunner: turns the artist's plans (a queued Generate, a sweep, a batch, a planned chain, a folder) into
jobs, and feeds them to the session one at a time (with several devices, one per free device).

QtCore only. The session calls ``run_ended`` whenever a run ends; the runner then records the result and
starts the next ready job, unless the queue is paused. With several devices (Settings ▸ Devices at once) it starts as
many jobs as there are free devices, a job pinned to a device when that one is free; a planned chain's steps
still run one after the other, each from the result of the step before. A cancel (Esc) stops the running job and
pauses the queue, so nothing else starts until the artist presses Resume.
"""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.errors import RestyleError
from desktop.core.folder_scan import folder_summary
from desktop.core.params import GenerationParams, random_seed
from desktop.core.ranges import MAX_SEED

from .queue import Group, Job, JobQueue, new_job_id

log = logging.getLogger(__name__)

QUEUE_FILE = "queue.json"
MAX_SWEEP_VALUES = 16
MAX_BATCH = 100
MIN_GRID_CELL = 160
# What the sweep dialog offers: label -> (GenerationParams field, type)
SWEEP_PARAMETERS = {"strength": ("strength", float), "guidance": ("guidance_scale", float),
                    "steps": ("steps", int), "seed": ("seed", int)}


def parse_sweep_values(parameter: str, text: str, base: GenerationParams) -> list:
    """The values of a sweep typed as "0.4, 0.6, 1.0"; ValueError with a sentence for a bad one."""
    if parameter not in SWEEP_PARAMETERS:
        raise ValueError(f"“{parameter}” cannot be swept: choose one of {', '.join(SWEEP_PARAMETERS)}.")
    field, kind = SWEEP_PARAMETERS[parameter]
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if len(parts) < 2:
        raise ValueError(f"Give at least two {parameter} values, separated by commas (for example 0.4, 0.6, 1.0).")
    if len(parts) > MAX_SWEEP_VALUES:
        raise ValueError(f"A sweep takes at most {MAX_SWEEP_VALUES} values (got {len(parts)}).")
    values = []
    for part in parts:
        try:
            value = kind(part)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise ValueError(f"“{part}” is not {what}: give {parameter} values separated by commas.") from None
        try:
            base.replace(model=base.model or "x", **{field: value}).validate()
        except RestyleError as exc:
            raise ValueError(exc.message) from None
        values.append(value)
    return values


def format_value(value) -> str:
    """A swept value as a label shows it."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def queue_file(settings, workspace_folder: Path) -> Path:
    """Each workspace keeps its own queue; the default one's stays where it always was, in the data folder."""
    if Path(workspace_folder) == settings.data_dir / "workspaces" / "default":
        return settings.data_dir / QUEUE_FILE
    return Path(workspace_folder) / QUEUE_FILE


class QueueRunner(QObject):
    """The session's queue: what is waiting, and the actions that add to it and run it."""

    grid_ready = Signal(str)  # path of a finished sweep's grid PNG
    # A folder run's report: "landscapes: 12 done, 2 failed, 1 skipped — details:" and a line per file not done.
    folder_summary_changed = Signal(str)
    status_changed = Signal(str)
    error_raised = Signal(str, str)

    def __init__(self, session):
        super().__init__()
        self._session = session
        self.queue = JobQueue(queue_file(session.settings, session.history.workspace.folder))
        session.history.history_reset.connect(self._on_history_reset)
        self._detached = False
        self._folders: dict[str, tuple[list, list]] = {}  # folder group id -> (failed, skipped)
        self.folder_scan = None  # the BackgroundJob checking a folder's files
        self.last_folder_summary = ""
        self._retry_job: str | None = None  # a job kept after running out of memory, for the lighter retry
        self._running: dict[int, str] = {}  # request id of a running job -> the job's id
        session.pool.capacity_changed.connect(self._on_pool_capacity_changed)

    def _on_pool_capacity_changed(self) -> None:
        """A device came, went or freed up: runs pinned to a lost one go to any device, then start what can."""
        lost = {row.id: row.label for row in self._session.pool.rows if row.state == "lost"}
        moved = [job for job in self.queue.jobs if job.device in lost and job.state != "running"]
        if moved:
            names = ", ".join(sorted({lost[job.device] for job in moved}))
            for job in moved:
                self.queue.set_device(job.id, "")
            runs = f"{len(moved)} waiting runs pinned to it go" if len(moved) > 1 else "1 waiting run pinned to it goes"
            self.status_changed.emit(f"{names} stopped: {runs} to whichever device is free now.")
        self._start_next()

    def _on_history_reset(self) -> None:
        """Another workspace was opened: show its queue (the window refuses the switch while a job runs)."""
        wanted = queue_file(self._session.settings, self._session.history.workspace.folder)
        if wanted != self.queue.path:
            self.queue.switch(wanted)

    def detach(self) -> None:
        """Stop recording: the window is closing, and the running job must stay queued for the next start."""
        self._detached = True

    # --- adding ------------------------------------------------------------------------------------------
    def enqueue_generate(self) -> bool:
        """Queue a run with the current parameters and init image (Generate pressed while a run is going)."""
        params, start = self._snapshot()
        if params is None:
            return False
        curve = self._session.loopback_strengths()
        if not curve:
            self._add([self._job("generate", _label("Generate", params), params, start)])
            return True
        # Auto-continue queued: its passes become a chain, each from the pass before, strength along the curve.
        jobs: list[Job] = []
        for number, strength in enumerate(curve, 1):
            label = _label(f"Pass {number} of {len(curve)} · strength {strength:g}", params)
            job = self._job("chain", label, params.replace(strength=strength), start if number == 1 else (None, None))
            job.after = jobs[-1].id if jobs else None
            jobs.append(job)
        self._add(jobs)
        return True

    def enqueue_batch(self, count: int) -> bool:
        """Queue ``count`` runs with seeds s, s+1, … (s = the seed field, random when it is empty)."""
        if not 1 <= count <= MAX_BATCH:
            self.error_raised.emit("bad_input", f"A batch makes 1 to {MAX_BATCH} images (got {count}).")
            return False
        params, start = self._snapshot()
        if params is None:
            return False
        first = params.seed if params.seed is not None else random_seed()
        first = min(first, MAX_SEED - count + 1)
        jobs = [self._job("batch", f"Batch {k + 1} of {count} · seed {first + k}", params.replace(seed=first + k),
                          start) for k in range(count)]
        self._add(jobs)
        return True

    def enqueue_sweep(self, parameter: str, text: str) -> bool:
        """Queue one run per value of ``parameter`` (same seed for all); their grid is saved when all end."""
        try:
            values = parse_sweep_values(parameter, text, self._session.params)
        except ValueError as exc:
            self.error_raised.emit("bad_input", str(exc))
            return False
        params, start = self._snapshot()
        if params is None:
            return False
        if params.seed is None:
            params = params.replace(seed=random_seed())  # the same seed in every cell: only the swept value differs
        field = SWEEP_PARAMETERS[parameter][0]
        labels = [f"{parameter} {format_value(v)}" for v in values]
        title = f"{parameter} sweep · seed {params.seed} · {params.prompt or '(no prompt)'}"
        group = Group(new_job_id(), "sweep", parameter, labels, title)
        jobs = []
        for cell, value in enumerate(values):
            job = self._job("sweep", f"Sweep · {labels[cell]}", params.replace(**{field: value}), start)
            job.group, job.cell = group.id, cell
            jobs.append(job)
        self._add(jobs, group)
        return True

    def enqueue_chain(self, steps: list[dict], *, from_text: bool = False) -> bool:
        """Queue a planned chain: each step (model, prompt, strength) starts from the previous step's result.

        Step 1 starts from the current init image, or from text when there is none or ``from_text`` is set.
        """
        problem = self.chain_problem(steps, from_text=from_text)
        if problem:
            self.error_raised.emit("bad_input", problem)
            return False
        params, start = self._snapshot(text_only=from_text)
        if params is None:
            return False
        jobs: list[Job] = []
        for number, step_params in enumerate(_chain_params(params, steps), 1):
            label = f"Chain step {number} of {len(steps)} · {Path(step_params.model).name} · {step_params.prompt}"
            job = self._job("chain", label, step_params, start if number == 1 else (None, None))
            if number > 1:
                job.after = jobs[-1].id
            jobs.append(job)
        self._add(jobs)
        return True

    def chain_problem(self, steps: list[dict], *, from_text: bool = False) -> str | None:
        """A sentence naming the first step that cannot run, or None."""
        if not steps:
            return "Add at least one step to the chain."
        starts_from_text = from_text or self._session.init_image is None
        for number, step_params in enumerate(_chain_params(self._session.params, steps), 1):
            try:
                step_params.validate()
                if number == 1 and starts_from_text:
                    step_params.require_a_start()
            except RestyleError as exc:
                return f"Step {number}: {exc.message}"
        return None

    def enqueue_folder(self, folder: str | Path) -> bool:
        """Queue one run per image in ``folder`` with the current settings. Every file is opened first (in the
        background): one that only looks like an image is skipped with its reason, and the folder's summary
        ("12 done, 2 failed, 1 skipped") comes when its last run ends."""
        from desktop.core.folder_scan import scan_folder
        from desktop.worker.background import BackgroundJob

        folder = Path(folder)
        if not folder.is_dir():
            self.error_raised.emit("bad_input", f"{folder} is not a folder.")
            return False
        params = self._validated(self._session.params)
        if params is None:
            return False
        job = BackgroundJob(lambda report, cancelled: scan_folder(folder, cancelled), "scan-folder")
        job.succeeded.connect(lambda found: self._queue_folder(folder, params, *found))
        job.failed.connect(lambda _kind, message: self.error_raised.emit("bad_input", message))
        self.folder_scan = job
        self.status_changed.emit(f"Checking the files in {folder.name}…")
        job.start()
        return True

    def _queue_folder(self, folder: Path, params: GenerationParams, images: list, skipped: list) -> None:
        if not images:
            self.folder_summary_changed.emit(folder_summary(folder.name, 0, [], skipped))
            self.error_raised.emit("bad_input", f"{folder.name} holds no images to restyle.")
            return
        group = Group(new_job_id(), "folder", folder.name, [p.name for p in images], f"Restyle {folder.name}")
        jobs = [self._job("folder", f"{folder.name}/{p.name}", params, (None, str(p))) for p in images]
        for cell, job in enumerate(jobs):
            job.group, job.cell = group.id, cell
        self._folders[group.id] = ([], skipped)  # (failed, skipped) file names with their reasons
        self._add(jobs, group)
        if skipped:
            self.status_changed.emit(f"Queued {len(images)} images of {folder.name}; skipped {len(skipped)} "
                                     "(the queue panel says why).")

    # --- queue actions -----------------------------------------------------------------------------------
    def resume(self) -> None:
        """Let the queue run again."""
        self.queue.set_paused(False)
        self._start_next()

    def pause(self) -> None:
        """Finish the running job, then start nothing more until resumed."""
        self.queue.set_paused(True)

    def remove(self, job_id: str) -> None:
        """Take a waiting job out of the queue, or cancel it if it is running (only it, on several devices)."""
        job = self.queue.get(job_id)
        if job is not None and job.state == "running":
            request_id = self.request_of(job_id)
            if request_id is not None and len(self._running) > 1:
                self._session.run.cancel_one(request_id)
            else:
                self._session.cancel()
        else:
            self.queue.remove(job_id)

    def set_device(self, job_id: str, device: str) -> bool:
        """Run a waiting job on one device of the pool ("" = whichever is free)."""
        changed = self.queue.set_device(job_id, device)
        self._start_next()
        return changed

    def request_of(self, job_id: str) -> int | None:
        """The running request of queue job ``job_id``, or None."""
        return next((rid for rid, jid in self._running.items() if jid == job_id), None)

    def job_of(self, request_id: int):
        """The queue job a running request belongs to, or None (a run started from the panel)."""
        return self.queue.get(self._running.get(request_id, ""))

    def focus(self, job_id: str | None) -> None:
        """Follow this job on the canvas and the progress bar while it runs (None: the latest started)."""
        self._session.focus_run(self.request_of(job_id) if job_id else None)

    def move(self, job_id: str, delta: int) -> bool:
        """Move a waiting job up or down."""
        return self.queue.move(job_id, delta)

    # --- running -----------------------------------------------------------------------------------------
    def run_ended(self, result, *, cancelled: bool = False, failure: str | None = None, reason: str = "",
                  request_id: int | None = None) -> None:
        """Called by the session after every run (``result`` None when it failed or was cancelled, ``failure`` the
        ErrorKind value it failed with, ``request_id`` the run's): record it if it was a job's, then start the
        next. A cancel pauses the queue."""
        if self._detached:
            return
        if cancelled:
            self.queue.set_paused(True)
            if self.queue.waiting_count():
                self.status_changed.emit("Cancelled. The queue is paused: press Resume to go on.")
        kind = failure
        if request_id in self._running:
            job = self.queue.get(self._running.pop(request_id))
        else:  # a run the queue did not start (the panel's Generate): on one device, no job is running then
            job = None if self._session.pool.active else self.queue.running()
        if job is not None:
            if result is not None and result.history_nodes:
                groups = self.queue.finish(job.id, result.history_nodes[-1].id)
            elif kind == "unavailable" and not cancelled:
                # The cluster went away: the run is kept and nothing else starts until the artist chooses.
                self.queue.requeue(job.id)
                self.queue.set_paused(True)
                self.status_changed.emit(reason if self._session.pool.active else
                                         "The Ray cluster went away: the queue is paused and this run kept. Press "
                                         "Resume once it is back, or choose Run on: this computer in Settings.")
                groups = []
            elif kind == "out_of_memory" and not cancelled:
                # The next jobs would run out too: keep this one, hold the rest until the lighter retry.
                self.queue.requeue(job.id)
                self.queue.set_paused(True)
                self._retry_job = job.id
                self.status_changed.emit("Out of memory: the queue is paused and this run kept. Retry with the "
                                         "lighter setting, or press Resume.")
                groups = []
            else:
                if job.group in self._folders:  # the folder's summary names each file not done, and why
                    why = "cancelled" if cancelled else (reason or "failed")
                    self._folders[job.group][0].append((job.label.rsplit("/", 1)[-1], why))
                groups = self.queue.fail(job.id, "the step before it was cancelled" if cancelled
                                         else "the step before it failed")
            for group in groups:
                self._assemble(group)
        self._start_next()

    def take_retry(self) -> bool:
        """The lighter retry after running out of memory: run the kept job again (and the queue after it)."""
        job = self.queue.get(self._retry_job or "")
        self._retry_job = None
        if job is None or job.state != "waiting":
            return False
        self.queue.move(job.id, -len(self.queue.jobs))  # first, wherever it was dragged since
        self.resume()
        return True

    def _start_next(self) -> None:
        session = self._session
        if session.pool.active:
            self._start_on_devices()
            return
        while (not self.queue.paused and session.phase.value == "idle" and session.idle_for_queue()
               and self.queue.running() is None):
            job = self.queue.next_ready()
            if job is None:
                return
            if self._start(job):
                return

    def _start_on_devices(self) -> None:
        """Several devices: start ready jobs while a device is free for them."""
        session = self._session
        while not self.queue.paused and session.phase.value != "cancelling" and session.idle_for_queue():
            job = self._next_for_devices()
            if job is None:
                return
            self._start(job)

    def _next_for_devices(self) -> Job | None:
        """The first ready job a free device can take now: any job while there is room, a pinned one when its
        device is free."""
        pool = self._session.pool
        running = [request.job_id for request in self._session.run.requests]
        if len(running) >= pool.capacity:
            return None
        free = pool.free_devices(running)
        for job in self.queue.jobs:
            if job.state != "waiting" or job.after is not None:
                continue
            if not job.device or (free is not None and job.device in free):
                return job
        return None

    def _start(self, job: Job) -> bool:
        """Start a job on the session; False (the job failed, its dependents blocked) when it cannot."""
        session = self._session
        self.queue.start(job.id)
        tree = session.history.tree
        if job.init_node is not None and job.init_node in tree:
            ok = session.continue_from(job.init_node)
        elif job.init_path is not None:  # also when the node never came to be (the run importing it failed)
            ok = session.load_init_image(job.init_path)
        elif job.init_node is not None:
            self.error_raised.emit("bad_input", f"{job.label}: the image it starts from was deleted.")
            ok = False
        else:
            session.clear_init_image()
            ok = True
        if ok and session.start_job_run(GenerationParams.from_dict({**job.params, "init_image": None}),
                                        slot=job.device if session.pool.active else ""):
            self._running[session.run.requests[-1].job_id] = job.id
            return True
        for group in self.queue.fail(job.id, "the step before it could not start"):
            self._assemble(group)
        return False

    def _assemble(self, group: Group) -> None:
        """Save a finished sweep's grid: every cell that ended, labelled with its value; report a folder run."""
        if group.kind == "folder":
            failed, skipped = self._folders.pop(group.id, ([], []))
            done = sum(1 for node in group.nodes if node)
            self.last_folder_summary = folder_summary(group.parameter, done, failed, skipped)
            self.folder_summary_changed.emit(self.last_folder_summary)
            return
        from PIL import Image

        from desktop.core.grid import make_grid

        workspace = self._session.history.workspace
        cells = [(n, label) for n, label in zip(group.nodes, group.labels, strict=True) if n and n in workspace.tree]
        if not cells:
            return
        images = []
        for node_id, _ in cells:
            with Image.open(workspace.image_path(node_id)) as image:
                images.append(image.convert("RGB"))
        # Cells as large as the results (never scaled down), and wide enough for a label like "guidance 7.5".
        side = max(MIN_GRID_CELL, *(max(i.size) for i in images))
        grid = make_grid(images, [label for _, label in cells], columns=len(images) if len(images) <= 8 else None,
                         cell=side, title=group.title)
        folder = self._session.settings.output_dir
        path = folder / f"restyle-sweep-{group.parameter}-{_dt.datetime.now():%Y%m%d-%H%M%S}-{group.id[:4]}.png"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            grid.save(path, format="PNG")
        except OSError as exc:
            self.error_raised.emit("bad_input",
                                   f"The sweep grid could not be saved in {folder}: {exc.strerror or exc}.")
            return
        missing = len(group.labels) - len(cells)
        extra = f" ({missing} cell{'s' if missing > 1 else ''} did not finish)" if missing else ""
        self.status_changed.emit(f"Sweep of {group.parameter} saved as {path.name}{extra}.")
        self.grid_ready.emit(str(path))

    # --- helpers -----------------------------------------------------------------------------------------
    def _add(self, jobs: list[Job], group: Group | None = None) -> None:
        self.queue.add(jobs, group)
        running = self._session.phase.value != "idle"
        self._start_next()
        waiting = self.queue.waiting_count()
        if running or self.queue.paused:
            what = "run" if len(jobs) == 1 else f"{len(jobs)} runs"
            paused = " The queue is paused: press Resume to run it." if self.queue.paused else ""
            self.status_changed.emit(f"Queued {what}; {waiting} waiting.{paused}")

    def _job(self, kind: str, label: str, params: GenerationParams, start: tuple) -> Job:
        init_node, init_path = start
        return Job(new_job_id(), kind, label, params.replace(init_image=None).to_dict(), init_node=init_node,
                   init_path=init_path)

    def _validated(self, params: GenerationParams) -> GenerationParams | None:
        try:
            return params.validate()
        except RestyleError as exc:
            self.error_raised.emit(exc.kind.value, exc.message)
            return None

    def _snapshot(self, *, text_only: bool = False) -> tuple[GenerationParams | None, tuple]:
        """The current parameters (depth settings and mask applied) and where the run starts: (node, path)."""
        session = self._session
        params = self._validated(session.mask.apply(session.depth.apply(session.params)))
        if params is None:
            return None, (None, None)
        if text_only or session.init_image is None:
            if not text_only:
                try:
                    params.require_a_start()
                except RestyleError as exc:
                    self.error_raised.emit(exc.kind.value, exc.message)
                    return None, (None, None)
            return params, (None, None)
        return params, (session.init_node_for_queue(), str(session.init_image.path))


def _chain_params(params: GenerationParams, steps: list[dict]) -> list[GenerationParams]:
    """The parameters of each step: the current ones with the step's model, prompt and strength."""
    keys = ("model", "prompt", "strength")
    return [params.replace(**{k: v for k, v in step.items() if k in keys and v not in ("", None)}) for step in steps]


def _label(what: str, params: GenerationParams) -> str:
    prompt = params.prompt if len(params.prompt) <= 40 else params.prompt[:37] + "…"
    seed = "random seed" if params.seed is None else f"seed {params.seed}"
    return f"{what} · {prompt or '(no prompt)'} · {seed}"
