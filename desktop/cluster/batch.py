"""A folder restyled over every device of a pool (worker processes or Ray actors), resumably.

The same plan and manifest as the one-device batch (``core/batch.py``): each finished file is saved here and
recorded at once, so an interrupted batch (Ctrl+C, a crash of this computer, a cluster that went away) loses at
most the files in flight, and the same command again does only the rest. A device lost mid-file has that file
done again on another; a file is recorded once, when its picture is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktop.core.batch import BatchReport, prepare_batch
from desktop.core.errors import ErrorKind, RestyleError
from desktop.core.images import load_image
from desktop.core.params import GenerationParams

from .dispatch import run_jobs
from .events import ERROR, LOST, RESULT, STATUS, DeviceEvent
from .owner import pack_job


def run_batch_on_pool(pool, in_dir: str | Path, out_dir: str | Path, params: GenerationParams, *, runtime=None,
                      style_folders=None, allow_pickles: bool | None = None,
                      status: Callable[[str], None] | None = None,
                      on_file_done: Callable[[Path, Path], None] | None = None, overwrite: bool = False) -> BatchReport:
    """Restyle each image in ``in_dir`` into ``out_dir`` on the devices of ``pool`` (see ``core.batch.run_batch``)."""
    say = status or (lambda message: None)
    plan = prepare_batch(in_dir, out_dir, params, say, overwrite=overwrite)
    report = plan.report
    jobs, items = [], {}
    for item in plan.todo:
        try:
            load_image(item.path)  # a broken file is reported before a device is asked to run it
            job = pack_job(str(item.number), item.run_params(), runtime=runtime, keep_latents=False,
                           style_folders=style_folders, allow_pickles=allow_pickles)
        except RestyleError as exc:
            if exc.kind is not ErrorKind.BAD_INPUT:
                raise
            report.failed.append((item.path.name, exc.message))
            say(f"{item.path.name}: {exc.message} Skipped.")
            continue
        jobs.append(job)
        items[job.job_id] = item
    first_labels = {s.id: s.label for s in pool.slots}

    def label(slot_id: str) -> str:  # an actor's label gains its host once it has started
        return next((s.label for s in pool.slots if s.id == slot_id), first_labels.get(slot_id, slot_id))

    def on_event(event: DeviceEvent) -> None:
        item = items.get(event.job_id)
        if event.kind == RESULT and item is not None:
            target = plan.record(item, event.payload)
            report.devices[item.path.name] = label(event.slot)
            say(f"[{len(report.done) + len(report.skipped_done)}/{len(plan.images)}] {item.path.name} done on "
                f"{label(event.slot)}.")
            if on_file_done is not None:
                on_file_done(item.path, target)
        elif event.kind == ERROR and item is not None:
            kind, message = event.payload
            if kind != ErrorKind.BAD_INPUT.value:
                raise RestyleError(ErrorKind(kind), message)  # a model that cannot load fails every file alike
            report.failed.append((item.path.name, message))
            say(f"{item.path.name}: {message} Skipped.")
        elif event.kind == LOST:
            again = f": {item.path.name} is done again on another device" if item is not None else ""
            say(f"{event.payload}{again}.")
        elif event.kind == STATUS and event.payload:
            say(f"{label(event.slot)}: {event.payload}")

    run_jobs(pool, jobs, on_event, gone_message="Every device stopped before the batch was done. Finished files are "
             "kept: run the same command again to do the rest.")
    return report
