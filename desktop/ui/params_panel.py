"""Strength, guidance, steps and seed, plus the size the run will use."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desktop.core.families import AESTHETIC, DENOISING_START, FAMILIES, PRIOR, TRUE_CFG
from desktop.core.ranges import MAX_SEED, RANGES

from .sampler_picker import SamplerPicker
from .slider_field import SliderField

# Every family-specific default, for a field whose family is not loaded (its row is hidden then anyway).
_ALL_DEFAULTS = {k: v for spec in FAMILIES.values() for k, v in spec.extra_defaults.items() if v is not None}


_GUIDANCE_TIPS = {
    "Distilled guidance": "FLUX.1 dev and Kontext were distilled with guidance as an input: 3.5 (Kontext 2.5) is "
                          "usual, one pass per step. Real CFG with a negative prompt is the True CFG setting.",
}


class ParamsPanel(QWidget):
    """Sliders with exact fields, bound to the model's parameters."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = model
        self.strength = SliderField.for_parameter("strength", "strengthSpin")
        self.strength.setToolTip(
            "How much the image may change: low keeps the picture and restyles the surface, 1.0 repaints it "
            "almost entirely (the input still shows through a little)."
        )
        self.guidance = SliderField.for_parameter("guidance_scale", "guidanceSpin")
        self.guidance.setToolTip("How strictly to follow the prompt. 5–9 is typical; very high values look harsh.")
        self.steps = SliderField.for_parameter("steps", "stepsSpin")
        self.steps.setToolTip("Denoising steps. With an init image only steps × strength of them run.")
        self.seed_edit = QLineEdit()
        self.seed_edit.setObjectName("seedEdit")
        self.seed_edit.setPlaceholderText("random")
        self.seed_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,20}")))
        self.seed_edit.setToolTip("Empty: a new random seed each run. The same seed and settings give the same image.")
        self.reuse_seed_button = QPushButton("Reuse last")
        self.reuse_seed_button.setObjectName("reuseSeedButton")
        self.reuse_seed_button.setEnabled(False)
        self.reuse_seed_button.setToolTip("Put the seed of the last result in the field")
        self.last_seed_label = QLabel("")
        self.last_seed_label.setObjectName("lastSeedLabel")
        self._guidance_tip = self.guidance.toolTip()
        self._build_family_fields()
        self.size_label = QLabel("")
        self.size_label.setObjectName("sizeLabel")
        self.size_label.setToolTip("The size the next run will use: the image's aspect at the model's natural "
                                   "resolution, in multiples of 8.")

        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_edit, 1)
        seed_row.addWidget(self.reuse_seed_button)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow("Strength", self.strength)
        layout.addRow("Guidance", self.guidance)
        layout.addRow("Steps", self.steps)
        self.sampler_picker = SamplerPicker(model)
        layout.addRow("Sampler", self.sampler_picker)
        layout.addRow("Aesthetic score", self.aesthetic)
        layout.addRow("Negative aesthetic", self.negative_aesthetic)
        layout.addRow("Denoising start", self.denoising_start)
        layout.addRow("Prior guidance", self.prior_guidance)
        layout.addRow("Prior steps", self.prior_steps)
        layout.addRow("True CFG", self.true_cfg)
        self._layout = layout
        layout.addRow("Seed", seed_row)
        layout.addRow("", self.last_seed_label)
        layout.addRow("Size", self.size_label)

        self._show_family_controls()
        self._sync(model.params)
        self._on_model_planned_size_changed(*model.planned_size())
        self.strength.value_changed.connect(lambda v: model.update_params(strength=round(v, 2)))
        self.guidance.value_changed.connect(lambda v: model.update_params(guidance_scale=round(v, 1)))
        self.steps.value_changed.connect(lambda v: model.update_params(steps=int(v)))
        self.aesthetic.value_changed.connect(lambda v: model.update_params(aesthetic_score=round(v, 1)))
        self.negative_aesthetic.value_changed.connect(
            lambda v: model.update_params(negative_aesthetic_score=round(v, 1)))
        # 0 shows as "off": the run uses the strength, as without the field.
        self.denoising_start.value_changed.connect(lambda v: model.update_params(denoising_start=round(v, 2) or None))
        self.prior_guidance.value_changed.connect(lambda v: model.update_params(prior_guidance_scale=round(v, 1)))
        self.prior_steps.value_changed.connect(lambda v: model.update_params(prior_steps=int(v)))
        self.true_cfg.value_changed.connect(lambda v: model.update_params(true_cfg_scale=round(v, 1)))
        model.model_info_changed.connect(self._on_model_model_info_changed)
        self.seed_edit.textEdited.connect(self._on_seed_edit_text_edited)
        self.reuse_seed_button.clicked.connect(self._on_reuse_seed_button_clicked)
        model.params_changed.connect(self._sync)
        model.planned_size_changed.connect(self._on_model_planned_size_changed)
        model.result_ready.connect(self._on_model_result_ready)
        model.init_image_changed.connect(self._on_model_init_image_changed)
        self._on_model_init_image_changed(model.init_image)

    def _build_family_fields(self) -> None:
        """The controls only some families accept; shown for the loaded model's family alone."""
        self.aesthetic = SliderField.for_parameter("aesthetic_score", "aestheticScoreSpin")
        self.aesthetic.setToolTip("SDXL refiner: the aesthetic rating to aim for (trained on about 1–10; 6 is usual).")
        self.negative_aesthetic = SliderField.for_parameter("negative_aesthetic_score", "negativeAestheticScoreSpin")
        self.negative_aesthetic.setToolTip("SDXL refiner: the rating to steer away from (2.5 is usual).")
        # 0 = off
        self.denoising_start = SliderField(0.0, RANGES["denoising_start"].high - 0.01, 0.01, 2, "denoisingStartSpin")
        self.denoising_start.spin.setSpecialValueText("off")
        self.denoising_start.setToolTip(
            "SDXL refiner: start at this fraction of the schedule, as when refining a base model's latents "
            "(overrides the strength). Off: the strength decides."
        )
        self.prior_guidance = SliderField.for_parameter("prior_guidance_scale", "priorGuidanceSpin")
        self.prior_guidance.setToolTip("Kandinsky: how strictly the prior turns the prompt into an image embedding.")
        self.prior_steps = SliderField.for_parameter("prior_steps", "priorStepsSpin")
        self.prior_steps.setToolTip("Kandinsky: denoising steps of the prior, which runs before the image steps.")
        self.true_cfg = SliderField.for_parameter("true_cfg_scale", "trueCfgSpin")
        self.true_cfg.setToolTip(
            "FLUX: real classifier-free guidance with the negative prompt, on top of the distilled guidance. "
            "1 = off (one pass per step); above 1 each step runs twice and the negative prompt is used."
        )
        self._family_rows = {
            AESTHETIC: (self.aesthetic, self.negative_aesthetic),
            DENOISING_START: (self.denoising_start,),
            PRIOR: (self.prior_guidance, self.prior_steps),
            TRUE_CFG: (self.true_cfg,),
        }

    def _show_family_controls(self) -> None:
        family = self._model.family
        for control, widgets in self._family_rows.items():
            for widget in widgets:
                self._layout.setRowVisible(widget, family.accepts(control))
        # FLUX Kontext takes the picture as a condition (no strength); schnell and Turbo have no guidance.
        self._layout.setRowVisible(self.strength, family.uses_strength)
        self._layout.setRowVisible(self.guidance, family.uses_guidance)
        self._layout.labelForField(self.guidance).setText(family.guidance_label)
        self.guidance.setToolTip(_GUIDANCE_TIPS.get(family.guidance_label, self._guidance_tip))

    def _on_model_model_info_changed(self, info) -> None:
        self._show_family_controls()
        self._sync(self._model.params)

    def _on_seed_edit_text_edited(self, text: str) -> None:
        seed = int(text) if text else None
        if seed is not None and seed > MAX_SEED:
            seed = MAX_SEED
            self.seed_edit.setText(str(seed))
        self._model.update_params(seed=seed)

    def _on_reuse_seed_button_clicked(self) -> None:
        if self._model.last_result is not None:
            self._model.update_params(seed=self._model.last_result.seed)

    def _on_model_result_ready(self, result) -> None:
        self.last_seed_label.setText(f"Last seed: {result.seed}")
        self.reuse_seed_button.setEnabled(True)

    def _on_model_init_image_changed(self, init) -> None:
        # Strength only means something when there is an image to start from.
        self.strength.setEnabled(init is not None and self._model.params.denoising_start is None)

    def _on_model_planned_size_changed(self, width: int, height: int) -> None:
        source = "from the image" if self._model.init_image else "text-to-image"
        self.size_label.setText(f"{width}×{height} ({source})")

    def _sync(self, params) -> None:
        self.strength.set_value(params.strength)
        self.guidance.set_value(params.guidance_scale)
        self.steps.set_value(params.steps)
        # None means "the family's default": show that value.
        for field, name in ((self.aesthetic, "aesthetic_score"), (self.negative_aesthetic, "negative_aesthetic_score"),
                            (self.prior_guidance, "prior_guidance_scale"), (self.prior_steps, "prior_steps"),
                            (self.true_cfg, "true_cfg_scale")):
            value = getattr(params, name)
            field.set_value(_ALL_DEFAULTS[name] if value is None else value)
        self.denoising_start.set_value(params.denoising_start or 0.0)
        self.strength.setEnabled(self._model.init_image is not None and params.denoising_start is None)
        text = "" if params.seed is None else str(params.seed)
        if self.seed_edit.text() != text:
            self.seed_edit.setText(text)
