"""The sampler picker: AUTOMATIC1111's sampler names and schedule types, bound to the model's parameters."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QWidget

from desktop.core.samplers import AUTOMATIC, DEFAULT_SAMPLER, SAMPLERS, SCHEDULES


class SamplerPicker(QWidget):
    """Two drop-downs: the sampler (or the model's own) and its schedule type."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = model
        self.sampler_combo = QComboBox()
        self.sampler_combo.setObjectName("samplerPicker")
        self.sampler_combo.addItem("Model default", DEFAULT_SAMPLER)
        for spec in SAMPLERS.values():
            self.sampler_combo.addItem(spec.name, spec.name)
            if spec.tip:
                self.sampler_combo.setItemData(self.sampler_combo.count() - 1, spec.tip, 3)  # ToolTipRole
        self.sampler_combo.setToolTip("How each denoising step is taken, by its AUTOMATIC1111 name. Switching "
                                      "reloads nothing.")
        self.schedule_combo = QComboBox()
        self.schedule_combo.setObjectName("schedulePicker")
        for spec in SCHEDULES.values():
            self.schedule_combo.addItem(spec.label, spec.key)
        self.schedule_combo.setToolTip("How the noise levels are spaced over the steps. Karras is the usual "
                                       "choice with DPM++ samplers; Automatic keeps the model's own.")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sampler_combo, 3)
        layout.addWidget(self.schedule_combo, 2)
        self._sync(model.params)
        self.sampler_combo.activated.connect(self._on_sampler_combo_activated)
        self.schedule_combo.activated.connect(self._on_schedule_combo_activated)
        model.params_changed.connect(self._sync)

    def _on_sampler_combo_activated(self, index: int) -> None:
        self._model.update_params(sampler=self.sampler_combo.itemData(index))

    def _on_schedule_combo_activated(self, index: int) -> None:
        self._model.update_params(schedule=self.schedule_combo.itemData(index))

    def _sync(self, params) -> None:
        for combo, value, fallback in ((self.sampler_combo, params.sampler, DEFAULT_SAMPLER),
                                       (self.schedule_combo, params.schedule, AUTOMATIC)):
            index = combo.findData(value)
            combo.setCurrentIndex(index if index >= 0 else combo.findData(fallback))
