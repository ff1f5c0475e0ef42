"""The style tools on a loaded model, applied just before a run: sampler, LoRAs, embeddings, reference images.

One ``StyleState`` lives beside each loaded model (the runner keeps it with the pipelines) and remembers what is
already in it, so a run only changes what differs from the last one and nothing is reloaded. ``prepare_run``
is the one hook the runner calls: it sets the pipeline's scheduler and adapters and returns the prompts to
encode (``<lora:…>`` tags out, embedding triggers turned into their tokens), the parameters as used, the
A1111 fields to record (``Lora hashes``, ``TI hashes``) and notes for the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.core.images import load_image
from desktop.core.params import GenerationParams
from desktop.core.style_files import (
    LoraRef,
    combine_loras,
    format_hashes,
    parse_lora_tags,
)

from .embeddings import EmbeddingSet
from .ip_adapter import ReferenceAdapter
from .loras import LoraSet, resolve_loras
from .schedulers import SchedulerSwitch


@dataclass(frozen=True)
class StyleFolders:
    """Where LoRAs and embeddings are looked up by name (the user's folders, first one first)."""

    loras: tuple[str, ...] = ()
    embeddings: tuple[str, ...] = ()


@dataclass
class StyledRun:
    """What the style tools made of a run."""

    params: GenerationParams  # with the sampler and schedule really used
    prompt: str  # what the text encoder reads
    negative_prompt: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # A1111 fields to write
    notes: list[str] = field(default_factory=list)
    call_kwargs: dict = field(default_factory=dict)  # extra pipeline arguments (reference images)


def requested_loras(params: GenerationParams) -> tuple[LoraRef, ...]:
    """The panel's LoRAs and the prompt's ``<lora:…>`` tags, the prompt's weight winning for a name in both."""
    _, tagged = parse_lora_tags(params.prompt)
    return combine_loras(tuple(LoraRef(name, weight) for name, weight in params.loras), tagged)


def check_styles(params: GenerationParams, folders: StyleFolders, *, allow_pickles: bool) -> None:
    """Refuse, before any model loads, a LoRA that is not there or is a pickle not allowed, and a reference
    that is not a picture."""
    resolve_loras(requested_loras(params), folders.loras, allow_pickles=allow_pickles)
    for path in params.references:
        load_image(path)


class StyleState:
    """What one loaded model holds of the style tools."""

    def __init__(self, pipe, family: str):
        self.family = family
        self.schedulers = SchedulerSwitch(pipe.scheduler, family)
        self.loras = LoraSet()
        self.embeddings = EmbeddingSet()
        self.reference = ReferenceAdapter()

    def prepare_run(self, pipe, params: GenerationParams, folders: StyleFolders = StyleFolders(), *,
                    allow_pickles: bool = False, status=lambda message: None) -> StyledRun:
        """Put the run's sampler and LoRAs on ``pipe`` and load the embeddings its prompts use."""
        scheduler, sampler, schedule, note = self.schedulers.scheduler_for(params.sampler, params.schedule)
        pipe.scheduler = scheduler
        run = StyledRun(params.replace(sampler=sampler, schedule=schedule), params.prompt, params.negative_prompt)
        if note:
            run.notes.append(note)
        run.prompt, _ = parse_lora_tags(params.prompt)
        run.negative_prompt, _ = parse_lora_tags(params.negative_prompt)  # A1111 ignores them there too
        loras = resolve_loras(requested_loras(params), folders.loras, allow_pickles=allow_pickles)
        self.loras.apply(pipe, loras, self.family, allow_pickles=allow_pickles, status=status)
        hashed = [(lora.name, lora.hash) for lora in loras if lora.hash]
        if hashed:
            run.fields.append(("Lora hashes", format_hashes(hashed)))
        (run.prompt, run.negative_prompt), used = self.embeddings.prepare(
            pipe, self.family, [run.prompt, run.negative_prompt], folders.embeddings,
            allow_pickles=allow_pickles, extra=params.embeddings)
        if used:
            run.fields.append(("TI hashes", format_hashes((e.name, e.hash) for e in used)))
        run.call_kwargs, fields = self.reference.prepare(pipe, params, self.family, status)
        run.fields.extend(fields)
        return run
