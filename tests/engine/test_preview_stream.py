"""Previews that do not wait for the GPU: late but never blocking, and never all lost."""

import numpy as np
import torch

from desktop.engine.preview_stream import RING, PreviewStream
from desktop.engine.previews import latent_preview


class FakeEvent:
    """A CUDA event stand-in: the copy it marks lands after ``lag`` later steps."""

    clock = 0

    def __init__(self, lag):
        self.lag = lag
        self.at = None

    def record(self):
        self.at = FakeEvent.clock

    def query(self):
        return FakeEvent.clock - self.at >= self.lag


def _steps(count):
    return [torch.full((1, 4, 8, 8), float(k) / count) for k in range(count)]


def test_on_the_cpu_every_step_gets_its_own_preview_at_once():
    stream = PreviewStream("sd")
    for latents in _steps(3):
        assert np.array_equal(stream.take(latents), latent_preview(latents, "sd"))


def test_a_gpu_one_step_behind_still_shows_every_step_one_step_late():
    FakeEvent.clock = 0
    stream = PreviewStream("sd", event_factory=lambda: FakeEvent(lag=1))
    steps, shown = _steps(6), []
    for latents in steps:
        shown.append(stream.take(latents))
        FakeEvent.clock += 1
    assert shown[0] is None
    for k in range(1, 6):
        assert np.array_equal(shown[k], latent_preview(steps[k - 1], "sd"))


def test_a_gpu_far_behind_drops_old_previews_instead_of_waiting():
    FakeEvent.clock = 0
    stream = PreviewStream("sd", event_factory=lambda: FakeEvent(lag=100))
    steps = _steps(RING + 3)
    assert all(stream.take(latents) is None for latents in steps)  # nothing blocked, nothing landed
    FakeEvent.clock = 1000
    newest = stream.take(steps[0])
    assert np.array_equal(newest, latent_preview(steps[-1], "sd"))  # the newest landed copy, not a stale one


def test_a_failing_asynchronous_path_falls_back_to_plain_previews():
    def broken():
        raise RuntimeError("no CUDA events here")

    stream = PreviewStream("sd", event_factory=broken)
    latents = _steps(1)[0]
    assert np.array_equal(stream.take(latents), latent_preview(latents, "sd"))
    assert np.array_equal(stream.take(latents), latent_preview(latents, "sd"))
