"""Strength, guidance, steps and seed, plus the size the run will use."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from desktop.engine.params import MAX_SEED

from .slider_field import SliderField


class ParamsPanel(QWidget):
    """Sliders with exact fields, bound to the model's parameters."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = model
        self.strength = SliderField(0.01, 1.0, 0.01, 2, "strengthSpin")
        self.strength.setToolTip(
            "How much the image may change: low keeps the picture and restyles the surface, 1.0 repaints it "
            "almost entirely (the input still shows through a little)."
        )
        self.guidance = SliderField(0.0, 30.0, 0.5, 1, "guidanceSpin")
        self.guidance.setToolTip("How strictly to follow the prompt. 5–9 is typical; very high values look harsh.")
        self.steps = SliderField(1, 150, 1, 0, "stepsSpin")
        self.steps.setToolTip("Denoising steps. With an init image only steps × strength of them run.")
        self.seed_edit = QLineEdit()
        self.seed_edit.setObjectName("seedEdit")
        self.seed_edit.setPlaceholderText("random")
        self.seed_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,10}")))
        self.seed_edit.setToolTip("Empty: a new random seed each run. The same seed and settings give the same image.")
        self.reuse_seed_button = QPushButton("Reuse last")
        self.reuse_seed_button.setObjectName("reuseSeedButton")
        self.reuse_seed_button.setEnabled(False)
        self.reuse_seed_button.setToolTip("Put the seed of the last result in the field")
        self.last_seed_label = QLabel("")
        self.last_seed_label.setObjectName("lastSeedLabel")
        self.size_label = QLabel("")
        self.size_label.setObjectName("sizeLabel")
        self.size_label.setToolTip("The size the next run will use: the image's aspect at the model's natural resolution, in multiples of 8.")

        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_edit, 1)
        seed_row.addWidget(self.reuse_seed_button)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow("Strength", self.strength)
        layout.addRow("Guidance", self.guidance)
        layout.addRow("Steps", self.steps)
        layout.addRow("Seed", seed_row)
        layout.addRow("", self.last_seed_label)
        layout.addRow("Size", self.size_label)

        self._sync(model.params)
        self._on_model_planned_size_changed(*model.planned_size())
        self.strength.value_changed.connect(lambda v: model.update_params(strength=round(v, 2)))
        self.guidance.value_changed.connect(lambda v: model.update_params(guidance_scale=round(v, 1)))
        self.steps.value_changed.connect(lambda v: model.update_params(steps=int(v)))
        self.seed_edit.textEdited.connect(self._on_seed_edit_text_edited)
        self.reuse_seed_button.clicked.connect(self._on_reuse_seed_button_clicked)
        model.params_changed.connect(self._sync)
        model.planned_size_changed.connect(self._on_model_planned_size_changed)
        model.result_ready.connect(self._on_model_result_ready)
        model.init_image_changed.connect(self._on_model_init_image_changed)
        self._on_model_init_image_changed(model.init_image)

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
        self.strength.setEnabled(init is not None)

    def _on_model_planned_size_changed(self, width: int, height: int) -> None:
        source = "from the image" if self._model.init_image else "text-to-image"
        self.size_label.setText(f"{width}×{height} ({source})")

    def _sync(self, params) -> None:
        self.strength.set_value(params.strength)
        self.guidance.set_value(params.guidance_scale)
        self.steps.set_value(params.steps)
        text = "" if params.seed is None else str(params.seed)
        if self.seed_edit.text() != text:
            self.seed_edit.setText(text)
