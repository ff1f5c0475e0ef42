"""Generate and Cancel, the progress bar and the time left."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def format_eta(seconds: float) -> str:
    """'about 12 s left', 'about 2 min 5 s left', or '' when unknown."""
    if seconds < 0:
        return ""
    if seconds < 1:
        return "under a second left"
    seconds = round(seconds)
    if seconds < 60:
        return f"about {seconds} s left"
    return f"about {seconds // 60} min {seconds % 60} s left"


class ProgressPanel(QWidget):
    """Buttons and progress for the current run."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = model
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setToolTip("Generate (Ctrl+Enter)")
        self.generate_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setToolTip("Stop after the current step (Esc); nothing half-made is saved")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("Idle")
        self.progress_bar.setTextVisible(True)
        self.eta_label = QLabel("")
        self.eta_label.setObjectName("etaLabel")
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.eta_label)
        self.generate_button.clicked.connect(model.generate)
        self.cancel_button.clicked.connect(model.cancel)
        model.phase_changed.connect(self._on_model_phase_changed)
        model.progress_changed.connect(self._on_model_progress_changed)
        model.result_ready.connect(self._on_model_result_ready)

    def _on_model_phase_changed(self, phase: str) -> None:
        running = phase != "idle"
        # While a run goes, Generate queues the next one (the queue panel shows it).
        self.generate_button.setText("Queue next" if running else "Generate")
        self.generate_button.setToolTip("Queue a run with these settings (Ctrl+Enter)" if running
                                        else "Generate (Ctrl+Enter)")
        self.cancel_button.setEnabled(phase == "running")
        if phase == "cancelling":
            self.progress_bar.setFormat("Cancelling…")
        elif not running and self.progress_bar.format() != "Done":
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat("Idle")
            self.eta_label.setText("")

    def _on_model_progress_changed(self, step: int, total: int, eta: float) -> None:
        if total <= 0:
            # Model loading or the first step: a busy bar until the count is known.
            self.progress_bar.setRange(0, 0)
            self.progress_bar.setFormat("Preparing…")
            self.eta_label.setText("")
            return
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(step)
        self.progress_bar.setFormat(f"Step {step} of {total}")
        self.eta_label.setText(format_eta(eta))

    def _on_model_result_ready(self, result) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self.progress_bar.setFormat("Done")
        self.eta_label.setText(f"{result.steps_run} steps in {result.elapsed:.1f} s")
