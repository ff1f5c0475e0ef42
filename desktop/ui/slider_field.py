"""A slider with an exact numeric field beside it, kept in step both ways."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSlider, QSpinBox, QWidget

from desktop.core.ranges import RANGES


class SliderField(QWidget):
    """A horizontal slider plus a spin box; ``value_changed`` fires once per real change."""

    value_changed = Signal(float)

    def __init__(self, minimum: float, maximum: float, step: float, decimals: int, object_name: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._scale = 10**decimals
        if decimals:
            self.spin = QDoubleSpinBox()
            self.spin.setDecimals(decimals)
        else:
            self.spin = QSpinBox()
        self.spin.setObjectName(object_name)
        self.spin.setRange(minimum, maximum)
        self.spin.setSingleStep(step)
        self.spin.setKeyboardTracking(False)  # typing "25" must not run "2" first
        self.spin.setMinimumWidth(72)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(minimum * self._scale), round(maximum * self._scale))
        self.slider.setSingleStep(max(1, round(step * self._scale)))
        self.slider.setPageStep(max(1, round(step * self._scale * 10)))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.spin.valueChanged.connect(self._on_spin_value_changed)

    @classmethod
    def for_parameter(cls, name: str, object_name: str, parent: QWidget | None = None) -> SliderField:
        """A field over the parameter's whole range in the one ranges table (validation and CLI use it too)."""
        limits = RANGES[name]
        low = limits.low + limits.step if limits.low_open else limits.low
        high = limits.high - limits.step if limits.high_open else limits.high
        return cls(low, high, limits.step, limits.decimals, object_name, parent)

    def value(self) -> float:
        """The exact value of the numeric field."""
        return float(self.spin.value())

    def set_value(self, value: float) -> None:
        """Show ``value`` without emitting ``value_changed``."""
        self.spin.blockSignals(True)
        self.slider.blockSignals(True)
        self.spin.setValue(value)
        self.slider.setValue(round(value * self._scale))
        self.spin.blockSignals(False)
        self.slider.blockSignals(False)

    def setToolTip(self, text: str) -> None:  # noqa: N802 - Qt naming
        self.spin.setToolTip(text)
        self.slider.setToolTip(text)

    def _on_slider_value_changed(self, raw: int) -> None:
        self.spin.setValue(raw / self._scale)  # fires _on_spin_value_changed

    def _on_spin_value_changed(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * self._scale))
        self.slider.blockSignals(False)
        self.value_changed.emit(float(value))
