"""The Settings dialog's "Run on" box: this computer, or a Ray cluster at an address (docs/CLUSTER.md)."""

from __future__ import annotations

import importlib.util

from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop.core.cluster_address import RAY_MISSING, token_source

HERE, CLUSTER = "here", "cluster"
CLUSTER_NOTE = ("The queue's runs go to the cluster's GPUs (as many at once as Devices at once says; Every GPU: "
                "all of them); previews, Cancel and the history work as here, and "
                "every picture is saved on this computer. HOST:PORT of the head (port 6379), or auto for a cluster "
                "started on this computer. Off this computer Ray's token authentication is required.")


class RunOnBox(QGroupBox):
    """Where runs go; ``address()`` is "" for this computer, else what was typed."""

    def __init__(self, address: str, parent: QWidget | None = None):
        super().__init__("Run on", parent)
        self.setObjectName("runOnBox")
        self.combo = QComboBox()
        self.combo.setObjectName("runOnCombo")
        self.combo.addItem("This computer", HERE)
        self.combo.addItem("Ray cluster at", CLUSTER)
        self.address_edit = QLineEdit(address)
        self.address_edit.setObjectName("clusterAddressEdit")
        self.address_edit.setPlaceholderText("HOST:6379 or auto")
        self.note = QLabel()
        self.note.setObjectName("clusterNoteLabel")
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.combo)
        row.addWidget(self.address_edit, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self.combo.setCurrentIndex(1 if address else 0)
        self.combo.currentIndexChanged.connect(self._update)
        self._update()

    def address(self) -> str:
        """"" for this computer, else the cluster address typed."""
        return self.address_edit.text().strip() if self.combo.currentData() == CLUSTER else ""

    def _update(self) -> None:
        on_cluster = self.combo.currentData() == CLUSTER
        self.address_edit.setEnabled(on_cluster)
        if not on_cluster:
            self.note.setText("Runs use this computer's device, chosen below.")
        elif importlib.util.find_spec("ray") is None:
            self.note.setText(RAY_MISSING)
        else:
            token = token_source()
            where = f"a Ray token was found ({token})" if token else "no Ray token was found here"
            self.note.setText(f"{CLUSTER_NOTE} Now {where}.")
