"""Pictures in and out: the restore bar's offer for a dropped picture (with Undo), and Export for sharing…"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

SHARE_SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "WebP": ".webp"}


class ShareExportDialog(QDialog):
    """Where to write the shared copy, in which format, and whether to strip every piece of metadata."""

    def __init__(self, default_path: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export for sharing")
        self.setObjectName("shareExportDialog")
        self.path_edit = QLineEdit(str(default_path))
        self.path_edit.setObjectName("shareExportPathEdit")
        browse = QPushButton("Browse…")
        browse.setObjectName("shareExportBrowseButton")
        browse.clicked.connect(self._on_browse_clicked)
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("shareFormatCombo")
        self.format_combo.addItems(list(SHARE_SUFFIXES))
        self.format_combo.setToolTip("JPEG and WebP keep the settings in EXIF UserComment, as AUTOMATIC1111 does")
        self.format_combo.currentTextChanged.connect(self._on_format_combo_changed)
        self.strip_check = QCheckBox("Strip all metadata (no prompt, settings or model name)")
        self.strip_check.setObjectName("shareStripCheck")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("File", path_row)
        form.addRow("Format", self.format_combo)
        form.addRow("", self.strip_check)
        form.addRow(buttons)

    def _on_format_combo_changed(self, name: str) -> None:
        path = Path(self.path_edit.text().strip() or "restyle")
        self.path_edit.setText(str(path.with_suffix(SHARE_SUFFIXES[name])))

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export for sharing", self.path_edit.text(),
                                              "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp)")
        if path:
            self.path_edit.setText(path)

    def choice(self) -> tuple[Path, bool]:
        """(the file to write, strip all metadata)."""
        return Path(self.path_edit.text().strip()).expanduser(), self.strip_check.isChecked()


class PictureActions(QObject):
    """The restore bar (offer, then Undo) and the History menu's Export for sharing…"""

    def __init__(self, window, session, menu):
        super().__init__(window)
        self._window = window
        self._session = session
        self.share_action = QAction("Export for &sharing…", window)
        self.share_action.setObjectName("shareExportAction")
        self.share_action.triggered.connect(self.export_selected)
        menu.addSeparator()
        menu.addAction(self.share_action)
        session.metadata_found.connect(self._on_session_metadata_found)
        session.restore_applied.connect(self._on_session_restore_applied)
        session.history.selection_changed.connect(self._on_selection_changed)
        self._on_selection_changed(session.history.selected_id)

    def _on_selection_changed(self, node_id) -> None:
        self.share_action.setEnabled(node_id is not None)

    def _on_session_metadata_found(self, offer) -> None:
        actions = [("Restore settings", lambda: self._session.restore_settings(offer))] if offer.preview else []
        if offer.model:
            actions.append((f"Restore with {Path(offer.model).name}",
                            lambda: self._session.restore_settings(offer, use_model=True)))
        elif offer.missing_model:
            actions.append(("Not installed: find it", lambda: self.find_model(offer.missing_model)))
        self._window.restore_banner.show_message(offer.text, actions)

    def _on_session_restore_applied(self, offer) -> None:
        # After the event loop turns: the bar hides itself once the clicked button's callback returns.
        QTimer.singleShot(0, self, lambda: self._window.restore_banner.show_message(
            f"Settings restored from {offer.source}.", [("Undo", self._session.undo_restore)]))

    def find_model(self, name: str):
        """Open the model library with the picture's model name in its Hub id box, to search or download it."""
        dialog = self._window.model_picker.open_library()
        box = dialog.findChild(QLineEdit, "libraryHubIdEdit") if dialog is not None else None
        if box is not None:
            box.setText(name)
        return dialog

    def export_selected(self, *, dialog: ShareExportDialog | None = None) -> Path | None:
        """Export the selected history picture for sharing; the path written, or None."""
        from PIL import Image

        from desktop.core.errors import RestyleError
        from desktop.core.metadata import read_parameters
        from desktop.core.share_export import export_for_sharing

        node_id = self._session.history.selected_id
        if node_id is None:
            return None
        source = self._session.history.workspace.image_path(node_id)
        if dialog is None:
            dialog = ShareExportDialog(self._session.settings.output_dir / f"restyle-{node_id}.png", self._window)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        target, strip = dialog.choice()
        try:
            with Image.open(source) as image:
                image.load()
                path = export_for_sharing(image, target, None if strip else read_parameters(source), strip=strip)
        except RestyleError as exc:
            self._window.error_banner.show_message(exc.message)
            return None
        except OSError as exc:
            self._window.error_banner.show_message(f"{source.name} could not be read: {exc.strerror or exc}.")
            return None
        self._session.status_changed.emit(f"Exported {path.name} for sharing"
                                          f"{' with no metadata' if strip else ''}.")
        return path
