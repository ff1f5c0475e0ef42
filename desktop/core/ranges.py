"""The one table of parameter ranges: params validation, the command line's flags and the window's sliders all
read it, so a value one accepts the others accept too (a 300-step PNG restores as 300 steps, not 150)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import RestyleError, bad_input

# 64-bit, as ComfyUI and Fooocus seeds are (torch.Generator takes any); fresh random seeds stay 32-bit, which
# every tool that reads A1111 metadata accepts.
MAX_SEED = 2**64 - 1
RANDOM_SEED_BOUND = 2**32


@dataclass(frozen=True)
class Range:
    """The values a parameter takes, how the UI steps through them, and the sentence for one outside them."""

    label: str  # starts the sentence: "Steps must be between 1 and 500 (got 600)."
    low: float
    high: float
    step: float = 1  # the slider's and spin box's step
    decimals: int = 0  # 0: a whole number
    low_open: bool = False  # strength: above 0, never 0
    high_open: bool = False  # denoising start: below 1
    multiple: int = 1  # width and height: multiples of 8
    hint: str = ""  # appended to the sentence: what to do instead

    @property
    def whole(self) -> bool:
        """True for whole numbers (steps, seed, sizes)."""
        return self.decimals == 0

    def contains(self, value: float) -> bool:
        """True when ``value`` is allowed."""
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below and (self.multiple == 1 or value % self.multiple == 0)

    def bounds_text(self) -> str:
        """"between 1 and 500", "above 0 and at most 1", "a multiple of 8 between 64 and 4096"."""
        low, high = _num(self.low), _num(self.high)
        if self.multiple > 1:
            return f"a multiple of {self.multiple} between {low} and {high}"
        if self.whole and self.label == "The seed":
            return f"a whole number from {low} to {high}"
        if self.low_open:
            return f"above {low} and {'below' if self.high_open else 'at most'} {high}"
        return f"between {low} and {high}"

    def sentence(self, value: object) -> str:
        """The one sentence for a value outside the range."""
        shown = _num(value) if isinstance(value, (int, float)) else repr(value)
        hint = f"; {self.hint}" if self.hint else ""
        return f"{self.label} must be {self.bounds_text()} (got {shown}){hint}."

    def check(self, value: float) -> None:
        """Raise a bad-input RestyleError with ``sentence`` when ``value`` is outside the range."""
        if not self.contains(value):
            raise self.error(value)

    def error(self, value: object) -> RestyleError:
        """The bad-input error for ``value``."""
        return bad_input(self.sentence(value))


def _num(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


RANGES: dict[str, Range] = {
    "strength": Range("Strength", 0.0, 1.0, 0.01, 2, low_open=True),
    "guidance_scale": Range("Guidance scale", 0.0, 50.0, 0.5, 1),
    "steps": Range("Steps", 1, 500),
    "seed": Range("The seed", 0, MAX_SEED),
    "width": Range("Width", 64, 4096, 8, multiple=8),
    "height": Range("Height", 64, 4096, 8, multiple=8),
    "control_scale": Range("Depth strength", 0.0, 2.0, 0.05, 2),
    "control_start": Range("Depth start", 0.0, 1.0, 0.05, 2),
    "control_end": Range("Depth end", 0.0, 1.0, 0.05, 2),
    "aesthetic_score": Range("Aesthetic score", 0.0, 10.0, 0.5, 1),
    "negative_aesthetic_score": Range("Negative aesthetic score", 0.0, 10.0, 0.5, 1),
    "denoising_start": Range("Denoising start", 0.0, 1.0, 0.01, 2, low_open=True, high_open=True,
                             hint="leave it empty to use the strength instead"),
    "prior_guidance_scale": Range("Prior guidance", 0.0, 50.0, 0.5, 1),
    "prior_steps": Range("Prior steps", 1, 500),
    "true_cfg_scale": Range("True CFG", 1.0, 50.0, 0.5, 1, hint="1 turns it off"),
    "noise_level": Range("The noise level", 0, 350),
    "mask_blur": Range("Mask blur", 0, 64, hint="it is in pixels"),
    "inpaint_padding": Range("Masked area padding", 0, 256, 8, hint="it is in pixels"),
    "lora_weight": Range("A LoRA weight", -4.0, 4.0, 0.05, 2, hint="0 turns the LoRA off"),
    "reference_scale": Range("The reference strength", 0.0, 2.0, 0.05, 2),
}
