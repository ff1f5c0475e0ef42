"""Dialogs that fill the queue: a sweep of one parameter and a planned chain of steps."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.model.queue_runner import SWEEP_PARAMETERS, parse_sweep_values

from . import theme

# The comparisons the diffusers guide shows, as starting points.
SWEEP_EXAMPLES = {"strength": "0.4, 0.6, 1.0", "guidance": "0.1, 5, 10", "steps": "10, 20, 30"}


class SweepDialog(QDialog):
    """Pick a parameter and its values; OK queues one run per value with the same seed."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sweepDialog")
        self.setWindowTitle("Sweep one setting")
        self._session = session
        self.parameter_combo = QComboBox()
        self.parameter_combo.setObjectName("sweepParameterCombo")
        self.parameter_combo.addItems(list(SWEEP_PARAMETERS))
        self.values_edit = QLineEdit()
        self.values_edit.setObjectName("sweepValuesEdit")
        self.error_label = QLabel()
        self.error_label.setObjectName("sweepErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {theme.tone('error')};")
        self.parameter_combo.currentTextChanged.connect(self._on_parameter_changed)
        self._on_parameter_changed(self.parameter_combo.currentText())
        form = QFormLayout()
        form.addRow("Setting", self.parameter_combo)
        form.addRow("Values (comma-separated)", self.values_edit)
        note = QLabel("Every run uses the same seed (the seed field's, or one random seed), so only this setting "
                      "differs. The results become history images and one labelled grid.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _on_parameter_changed(self, parameter: str) -> None:
        seed = self._session.params.seed or 1
        self.values_edit.setText(SWEEP_EXAMPLES.get(parameter, f"{seed}, {seed + 1}, {seed + 2}"))
        self.error_label.clear()

    def accept(self) -> None:  # QDialog override: stays open with the sentence for bad values
        parameter, text = self.parameter_combo.currentText(), self.values_edit.text()
        try:
            parse_sweep_values(parameter, text, self._session.params)
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return
        if self._session.jobs.enqueue_sweep(parameter, text):
            super().accept()


class ChainDialog(QDialog):
    """Steps of model, prompt and strength; OK queues them, each starting from the result before it."""

    COLUMNS = ("Model", "Prompt", "Strength")

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("chainDialog")
        self.setWindowTitle("Plan a chain")
        self._session = session
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("chainStepsTable")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setColumnWidth(0, 220)
        self.table.setColumnWidth(1, 260)
        self.from_text_check = QCheckBox("Step 1 starts from text (text → image), not from the current image")
        self.from_text_check.setObjectName("chainFromTextCheck")
        self.from_text_check.setChecked(session.init_image is None)
        self.error_label = QLabel()
        self.error_label.setObjectName("chainErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {theme.tone('error')};")
        add = QPushButton("Add step")
        add.setObjectName("chainAddStepButton")
        add.clicked.connect(self._on_add_clicked)
        remove = QPushButton("Remove step")
        remove.setObjectName("chainRemoveStepButton")
        remove.clicked.connect(self._remove_step)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Each step starts from the result of the step above it. Leave a cell empty to "
                                "keep the current setting."))
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.from_text_check)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.resize(640, 320)
        params = session.params
        for _ in range(2):
            self.add_step(params.model, params.prompt, params.strength)

    def add_step(self, model: str = "", prompt: str = "", strength: float | str = "") -> None:
        """Append a row."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, value in enumerate((model, prompt, f"{strength:g}" if isinstance(strength, float) else strength)):
            self.table.setItem(row, column, QTableWidgetItem(str(value)))

    def _on_add_clicked(self) -> None:
        self.add_step()  # not connected directly: clicked's "checked" would arrive as the model

    def _remove_step(self) -> None:
        row = self.table.currentRow()
        self.table.removeRow(row if row >= 0 else self.table.rowCount() - 1)

    def steps(self) -> list[dict]:
        """The rows as step dicts; ValueError with a sentence for a strength that is not a number."""
        steps = []
        for row in range(self.table.rowCount()):
            cells = [(self.table.item(row, c).text().strip() if self.table.item(row, c) else "")
                     for c in range(len(self.COLUMNS))]
            step: dict = {"model": cells[0], "prompt": cells[1]}
            if cells[2]:
                try:
                    step["strength"] = float(cells[2])
                except ValueError:
                    raise ValueError(f"Step {row + 1}: the strength “{cells[2]}” is not a number.") from None
            steps.append(step)
        return steps

    def accept(self) -> None:  # QDialog override: stays open with the sentence for bad values
        try:
            steps = self.steps()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return
        from_text = self.from_text_check.isChecked()
        problem = self._session.jobs.chain_problem(steps, from_text=from_text)
        if problem:
            self.error_label.setText(problem)
            return
        if self._session.jobs.enqueue_chain(steps, from_text=from_text):
            super().accept()
