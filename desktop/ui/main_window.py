"""MainWindow: composes the panels, menus and shortcuts; the logic lives in SessionModel."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME

from .banner import Banner
from .canvas import Canvas
from .model_picker import ModelPicker
from .params_panel import ParamsPanel
from .progress_panel import ProgressPanel
from .prompt_panel import PromptPanel
from .qt_images import pil_to_qimage

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"


class MainWindow(QMainWindow):
    """The canvas on the left, the controls on the right, banners for errors and offers."""

    output_saved = Signal(str)  # path of every PNG written, as soon as it is on disk

    def __init__(self, model, host, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self._host = host
        self._shown_once = False
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")
        self.resize(1180, 760)

        self.canvas = Canvas()
        self.error_banner = Banner("errorBanner", "error")
        self.restore_banner = Banner("restoreBanner", "info")
        self.model_picker = ModelPicker(model)
        self.prompt_panel = PromptPanel(model)
        self.params_panel = ParamsPanel(model)
        self.progress_panel = ProgressPanel(model)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addWidget(self.error_banner)
        left_layout.addWidget(self.restore_banner)
        left_layout.addWidget(self.canvas, 1)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.model_picker)
        side_layout.addWidget(self.prompt_panel)
        side_layout.addWidget(self.params_panel)
        side_layout.addStretch(1)
        side_layout.addWidget(self.progress_panel)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(360)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([800, 380])
        self.setCentralWidget(splitter)
        self.status_label = QLabel("")
        self.statusBar().addWidget(self.status_label, 1)

        self._build_actions()
        self.canvas.file_dropped.connect(self._on_canvas_file_dropped)
        model.init_image_changed.connect(self._on_model_init_image_changed)
        model.preview_changed.connect(self._on_model_preview_changed)
        model.progress_changed.connect(self._on_model_progress_changed)
        model.result_ready.connect(self._on_model_result_ready)
        model.error_raised.connect(self._on_model_error_raised)
        model.status_changed.connect(self.status_label.setText)
        model.metadata_found.connect(self._on_model_metadata_found)
        model.phase_changed.connect(self._on_model_phase_changed)
        self._on_model_init_image_changed(model.init_image)
        geometry, state = model.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    @property
    def last_output_path(self) -> Path | None:
        """The PNG written by the last finished run (the automation contract)."""
        return self.model.last_output_path

    # --- actions -----------------------------------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcuts=()) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open image…", self.open_image_dialog, [QKeySequence.StandardKey.Open])
        self.paste_action = self._action(file_menu, "&Paste image", self.paste_image, [QKeySequence.StandardKey.Paste])
        self._action(file_menu, "&Clear image (text-to-image)", self.model.clear_init_image)
        file_menu.addSeparator()
        self._action(file_menu, "Open &output folder", self._open_output_folder)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, [QKeySequence.StandardKey.Quit])
        run_menu = self.menuBar().addMenu("&Run")
        self.generate_action = self._action(run_menu, "&Generate", self.model.generate, ["Ctrl+Return", "Ctrl+Enter"])
        self.cancel_action = self._action(run_menu, "&Cancel", self.model.cancel, ["Esc"])

    def open_image_dialog(self) -> None:
        """Let the user pick an init image file."""
        path, _ = QFileDialog.getOpenFileName(self, "Open an image to restyle", "", IMAGE_FILTER)
        if path:
            self.model.load_init_image(path)

    def paste_image(self) -> bool:
        """Use the clipboard's image (or copied image file) as the init image."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls():
            for url in mime.urls():
                if url.isLocalFile():
                    return self.model.load_init_image(url.toLocalFile())
        if mime is not None and mime.hasImage():
            image = QGuiApplication.clipboard().image()
            if not image.isNull():
                # Saved to the data folder so the pasted picture is never lost and can be re-run later.
                folder = self.model.settings.data_dir / "inputs"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"pasted-{_dt.datetime.now():%Y%m%d-%H%M%S-%f}.png"
                if image.save(str(path), "PNG"):
                    return self.model.load_init_image(path)
        self.error_banner.show_message("The clipboard holds no image. Copy an image (or an image file) first.")
        return False

    def _open_output_folder(self) -> None:
        folder = self.model.settings.output_dir
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # --- model signals -----------------------------------------------------------------------------------
    def _on_canvas_file_dropped(self, path: str) -> None:
        self.error_banner.hide()
        self.model.load_init_image(path)

    def _on_model_init_image_changed(self, init) -> None:
        if init is None:
            self.canvas.show_image(None)
            return
        width, height = self.model.planned_size()
        self.canvas.show_image(
            pil_to_qimage(init.image),
            f"{init.path.name} · {init.size[0]}×{init.size[1]} · runs at {width}×{height}",
        )

    def _on_model_preview_changed(self, image) -> None:
        self._showing_preview = True
        self.canvas.show_image(image, self._progress_caption)

    _progress_caption = ""
    _showing_preview = False

    def _on_model_progress_changed(self, step: int, total: int, eta: float) -> None:
        self._progress_caption = f"Step {step} of {total}" if total else "Preparing…"

    def _on_model_result_ready(self, result) -> None:
        self._showing_preview = False
        name = Path(result.output_path).name if result.output_path else "not saved"
        self.canvas.show_image(pil_to_qimage(result.image), f"Result · seed {result.seed} · saved as {name}")
        if result.output_path:
            self.output_saved.emit(result.output_path)

    def _on_model_phase_changed(self, phase: str) -> None:
        if phase == "running":
            self.error_banner.hide()
        elif phase == "idle" and self._showing_preview:
            # Cancelled or failed: the half-made preview goes; show what was there before the run.
            self._showing_preview = False
            result = self.model.last_result
            if result is not None:
                self._on_model_result_ready(result)
            else:
                self._on_model_init_image_changed(self.model.init_image)

    def _on_model_error_raised(self, kind: str, message: str) -> None:
        self.error_banner.show_message(message)

    def _on_model_metadata_found(self, parsed) -> None:
        prompt = parsed.prompt if len(parsed.prompt) <= 80 else parsed.prompt[:77] + "…"
        self.restore_banner.show_message(
            f"This image carries the settings it was made with (prompt “{prompt}”). Restore them?",
            [("Restore settings", lambda: self.model.restore_metadata(parsed))],
        )

    # --- window life -------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            # Loading torch and the model starts only once the window is on screen.
            QTimer.singleShot(0, self.model.preload_model)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.model.settings.store_window_state(self.saveGeometry(), self.saveState())
        self.model.settings.sync()
        self._host.shutdown()
        super().closeEvent(event)
