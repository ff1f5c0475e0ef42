"""MainWindow: composes the panels, menus and shortcuts; the logic lives in SessionModel."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME
from desktop.core.web_images import is_web_url

from .banner import Banner
from .canvas import Canvas
from .deferred import DeferredPanel
from .device_status import DeviceStatus
from .history_panel import HistoryPanel
from .mask_layer import MaskLayer
from .mask_panel import MaskActions, MaskPanel
from .model_picker import ModelPicker
from .params_panel import ParamsPanel
from .picture_actions import PictureActions
from .progress_panel import ProgressPanel
from .prompt_panel import PromptPanel
from .queue_actions import QueueActions
from .queue_panel import QueuePanel
from .side_column import SideColumn
from .upscale_actions import UpscaleActions
from .working_picture import WorkingPicture
from .workspace_menu import WorkspaceMenu

if TYPE_CHECKING:
    from .depth_panel import DepthPanel
    from .gallery_panel import GalleryPanel
    from .lora_panel import LoraPanel
    from .reference_panel import ReferencePanel
    from .settings_dialog import SettingsDialog

IMAGE_FILTER = "Images (*.png *.apng *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.gif);;All files (*)"
PRELOAD_DELAY_MS = 150
WORKSPACE_FILTER = "Restyle workspace (*.restyle);;All files (*)"
REPLAY_FIELDS = {"Model": "model", "Prompt": "prompt", "Strength": "strength", "Guidance scale": "guidance_scale",
                 "Steps": "steps", "Seed": "seed"}


class MainWindow(QMainWindow):
    """The canvas on the left, the controls on the right, banners for errors and offers."""

    output_saved = Signal(str)  # path of every PNG written, as soon as it is on disk

    def __init__(self, model, host, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self._host = host
        self._shown_once = False
        self._progress_caption = ""  # "Step k of n", shown under the next preview
        self._showing_preview = False  # the canvas shows a half-made preview
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")
        self.resize(1180, 760)

        self.canvas = Canvas()
        self.error_banner = Banner("errorBanner", "error")
        self.restore_banner = Banner("restoreBanner", "info")
        self.notice_banner = Banner("noticeBanner", "info")
        self.model_picker = ModelPicker(model)
        self.prompt_panel = PromptPanel(model)
        self.params_panel = ParamsPanel(model)
        # The folded sections (and the gallery tab) are built when they first show (deferred.py), not at start-up.
        self._depth_page = DeferredPanel(self._build_depth_panel, "depthPage")
        self._lora_page = DeferredPanel(self._build_lora_panel, "lorasPage")
        self._reference_page = DeferredPanel(self._build_reference_panel, "referencesPage")
        self._mask_page = DeferredPanel(self._build_mask_panel, "maskPage")
        self.mask_layer = MaskLayer(self.canvas, model.mask)  # the mask overlay and brush on the canvas
        self.canvas.set_layer(self.mask_layer)
        self.progress_panel = ProgressPanel(model)
        self.history_panel = HistoryPanel(model)
        self.working_picture = WorkingPicture(model, self.canvas, self.history_panel.item_model.thumbnails,
                                              self.history_panel.compare_button, self)
        self.history_panel.setMinimumWidth(240)
        self.queue_panel = QueuePanel(model)
        self.side_tabs = QTabWidget()  # the history, and the queue beside it
        self.side_tabs.setObjectName("sideTabs")
        self.side_tabs.addTab(self.history_panel, "History")
        self.side_tabs.addTab(self.queue_panel, "Queue")
        self._gallery_page = DeferredPanel(self._build_gallery_panel, "galleryPage")  # built when first chosen
        self.side_tabs.addTab(self._gallery_page, "Gallery")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addWidget(self.error_banner)
        left_layout.addWidget(self.restore_banner)
        left_layout.addWidget(self.notice_banner)
        # Which picture the next run restyles, in words, above the picture itself.
        self.source_label = QLabel(model.source_label)
        self.source_label.setObjectName("sourceLabel")
        self.source_label.setToolTip("The picture the next Generate starts from. Select another in the history, "
                                     "drop one here, or File ▸ New (Ctrl+N) to start from text.")
        left_layout.addWidget(self.source_label)
        left_layout.addWidget(self.canvas, 1)
        self.side_column = SideColumn(model.settings, self.model_picker, self.prompt_panel, self.params_panel,
                                      self._depth_page, self.progress_panel, depth_in_use=model.depth.has_map,
                                      style_panels=(("LoRAs and embeddings", self._lora_page, "loras"),
                                                    ("Reference images (IP-Adapter)", self._reference_page,
                                                     "references"),
                                                    ("Mask and outpainting", self._mask_page, "mask")))
        # Folded until wanted, like the style tools; the mask tool (M) unfolds it.
        self.mask_section = self.side_column.style_sections[-1]
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.side_tabs)
        splitter.addWidget(left)
        splitter.addWidget(self.side_column)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([280, 760, 380])
        self.setCentralWidget(splitter)
        self.status_label = QLabel("")
        self.statusBar().addWidget(self.status_label, 1)
        self.device_status = DeviceStatus(model)
        self.statusBar().addPermanentWidget(self.device_status)

        self._build_actions()
        self.canvas.file_dropped.connect(self._on_canvas_file_dropped)
        model.init_image_changed.connect(self._on_model_init_image_changed)
        model.source_changed.connect(self._on_model_source_changed)
        model.preview_changed.connect(self._on_model_preview_changed)
        model.progress_changed.connect(self._on_model_progress_changed)
        model.result_ready.connect(self._on_model_result_ready)
        model.result_ready.connect(self._on_model_result_notes)
        model.error_raised.connect(self._on_model_error_raised)
        model.out_of_memory_offered.connect(self._on_model_out_of_memory_offered)
        model.model_info_changed.connect(self._on_model_model_info_changed)
        model.status_changed.connect(self.status_label.setText)
        model.phase_changed.connect(self._on_model_phase_changed)
        history = model.history
        history.selection_changed.connect(self._on_history_selection_changed)
        self.history_panel.compare_button.toggled.connect(
            lambda _on: self._on_history_selection_changed(history.selected_id))
        self.history_panel.delete_requested.connect(self.delete_node)
        self.history_panel.export_requested.connect(self.export_grid_dialog)
        self.history_panel.replay_requested.connect(self.replay_dialog)
        self._on_model_init_image_changed(model.init_image)
        # What start-up had to repair or set aside (history, queue, settings), named in one bar.
        notices = [model.settings.notice, history.open_report.message, model.jobs.queue.notice]
        if any(notices):
            self.error_banner.show_message(" ".join(n for n in notices if n))
        geometry, state = model.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # --- the panels built when they first show ------------------------------------------------------------
    @property
    def depth_panel(self) -> DepthPanel:
        """The depth panel (built now if its section has not been unfolded yet)."""
        return self._depth_page.panel

    @property
    def lora_panel(self) -> LoraPanel:
        """The LoRA and embeddings panel (built now if its section has not been unfolded yet)."""
        return self._lora_page.panel

    @property
    def reference_panel(self) -> ReferencePanel:
        """The reference images panel (built now if its section has not been unfolded yet)."""
        return self._reference_page.panel

    @property
    def mask_panel(self) -> MaskPanel:
        """The mask and outpainting panel (built now if its section has not been unfolded yet)."""
        return self._mask_page.panel

    @property
    def gallery_panel(self) -> GalleryPanel:
        """The gallery (built now if its tab has not been chosen yet)."""
        return self._gallery_page.panel

    def _build_depth_panel(self) -> DepthPanel:
        from .depth_panel import DepthPanel

        panel = DepthPanel(self.model)
        panel.setTitle("")  # the section header names it
        panel.view_requested.connect(self.canvas.show_image)
        return panel

    def _build_lora_panel(self) -> LoraPanel:
        from .lora_panel import LoraPanel

        return LoraPanel(self.model)

    def _build_reference_panel(self) -> ReferencePanel:
        from .reference_panel import ReferencePanel

        return ReferencePanel(self.model)

    def _build_mask_panel(self) -> MaskPanel:
        panel = MaskPanel(self.model)
        panel.setTitle("")  # the section header names it
        return panel

    def _build_gallery_panel(self) -> GalleryPanel:
        from .gallery_panel import GalleryPanel

        panel = GalleryPanel(self.model)
        history_filter = self.history_panel.filter_edit
        panel.set_filter_text(history_filter.text())  # the words typed before it was built
        panel.filter_edited.connect(history_filter.setText)
        history_filter.textChanged.connect(panel.set_filter_text)
        return panel

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
        self.new_action = self._action(file_menu, "&New: start from text", self.model.start_from_text,
                                       [QKeySequence.StandardKey.New])
        self.back_action = self._action(file_menu, "&Back to the picture", self.model.back_to_picture)
        self.back_action.setEnabled(False)
        file_menu.addSeparator()
        self._action(file_menu, "Open &workspace…", self.open_workspace_dialog)
        self._action(file_menu, "&Save workspace as…", self.save_workspace_dialog, [QKeySequence.StandardKey.SaveAs])
        self.workspace_menu = WorkspaceMenu(self, file_menu)
        file_menu.addSeparator()
        self._action(file_menu, "Open &output folder", self._open_output_folder)
        file_menu.addSeparator()
        self.settings_action = self._action(file_menu, "Se&ttings…", self.settings_dialog, ["Ctrl+,"])
        self._action(file_menu, "St&orage…", self.storage_dialog)
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, [QKeySequence.StandardKey.Quit])
        run_menu = self.menuBar().addMenu("&Run")
        self.generate_action = self._action(run_menu, "&Generate", self.model.generate, ["Ctrl+Return", "Ctrl+Enter"])
        self.cancel_action = self._action(run_menu, "&Cancel", self.model.cancel, ["Esc"])
        self.continue_action = self._action(run_menu, "C&ontinue from here", self.model.continue_from_selected,
                                            ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"])
        self.queue_actions = QueueActions(self, file_menu, run_menu)
        history_menu = self.menuBar().addMenu("&History")
        # Text boxes keep their own Ctrl+Z while they have the focus; elsewhere it walks the tree.
        parent = self._action(history_menu, "Go to &parent", self.model.history.undo, [QKeySequence.StandardKey.Undo])
        child = self._action(history_menu, "Go to &last child", self.model.history.redo, ["Ctrl+Shift+Z"])
        # The panel's buttons from the keyboard (a click does nothing while nothing is selected). The Delete key
        # only where the history has the focus: elsewhere it belongs to text boxes and the queue.
        self.star_action = self._action(history_menu, "&Star or unstar", self.history_panel.star_button.click,
                                        ["Ctrl+D"])
        self.delete_action = self._action(history_menu, "&Delete…", self.history_panel.delete_button.click,
                                          [QKeySequence.StandardKey.Delete])
        self.removeAction(self.delete_action)
        self.history_panel.addAction(self.delete_action)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.mask_actions = MaskActions(self, self.model.mask, parent, child,
                                        self._on_mask_tool_on)
        self.upscale_actions = UpscaleActions(self, self.model, self.history_panel, history_menu)
        self.workspace_menu.add_branch_actions(history_menu)
        self.picture_actions = PictureActions(self, self.model, history_menu)  # restore bar, Export for sharing…

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

    # --- history actions ---------------------------------------------------------------------------------
    def confirm(self, question: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        answer = QMessageBox.question(self, APP_NAME, question)
        return answer == QMessageBox.StandardButton.Yes

    def delete_node(self, node_id: str) -> bool:
        """Delete a node and its subtree after confirmation."""
        count = len(self.model.history.tree.subtree_ids(node_id))
        extra = f" and the {count - 1} image{'s' if count > 2 else ''} made from it" if count > 1 else ""
        if not self.confirm(f"Delete this image{extra} from the history? Exported files are kept."):
            return False
        self.model.history.delete(node_id)
        return True

    def export_grid_dialog(self, node_ids: list[str]) -> None:
        """Ask where, then save the nodes (or the selected node's chain) as one grid."""
        path, _ = QFileDialog.getSaveFileName(self, "Export as a grid", str(self.model.settings.output_dir /
                                              "restyle-grid.png"), "PNG image (*.png)")
        if path:
            self.model.history.export_grid(node_ids, path)

    def replay_dialog(self, node_id: str) -> None:
        """Ask which setting to change, then replay the branch up to ``node_id``."""
        field, ok = QInputDialog.getItem(self, "Replay the branch", "Change this for every step:",
                                         list(REPLAY_FIELDS), 0, False)
        if not ok:
            return
        key = REPLAY_FIELDS[field]
        current = self.model.history.tree.get(node_id).params.get(key, "")
        text, ok = QInputDialog.getText(self, "Replay the branch", f"New {field.lower()}:", text=str(current))
        if not ok:
            return
        try:
            value = {"strength": float, "guidance_scale": float, "steps": int, "seed": int}.get(key, str)(text)
        except ValueError:
            self.error_banner.show_message(f"“{text}” is not a valid {field.lower()}.")
            return
        self.model.replay(node_id, {key: value})

    def save_workspace_dialog(self) -> None:
        """Save the whole history as one portable .restyle file."""
        path, _ = QFileDialog.getSaveFileName(self, "Save workspace as", "history.restyle", WORKSPACE_FILTER)
        if path:
            self.model.history.save_as(path)

    def open_workspace_dialog(self) -> None:
        """Open a .restyle file as the current workspace."""
        path, _ = QFileDialog.getOpenFileName(self, "Open workspace", "", WORKSPACE_FILTER)
        if path:
            self.model.history.open_file(path)

    def _on_history_selection_changed(self, node_id) -> None:
        self.working_picture.show_selection(node_id)

    def _open_output_folder(self) -> None:
        folder = self.model.settings.output_dir
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # --- model signals -----------------------------------------------------------------------------------
    def _on_canvas_file_dropped(self, path: str) -> None:
        self.error_banner.hide()
        if is_web_url(path):  # dragged from a web browser: fetched in the background, then shown
            self.model.web.fetch(path)
        else:
            self.model.load_init_image(path)

    def _on_mask_tool_on(self) -> None:
        # Painting needs the panel's brush controls and the working picture on the canvas (not a result).
        self.mask_section.set_expanded(True)
        self._on_model_init_image_changed(self.model.init_image)

    def _on_model_init_image_changed(self, init) -> None:
        self.working_picture.show_init(init)

    def _on_model_source_changed(self, label: str) -> None:
        self.source_label.setText(label)
        self.back_action.setEnabled(self.model.can_go_back)
        self.notice_banner.hide()  # notes (a cropped depth map, …) belong to the picture they were made for

    def _on_model_preview_changed(self, image) -> None:
        self._showing_preview = True
        # Families without calibrated preview colours (Kandinsky's MoVQ) say so, so nobody judges colours by it.
        coarse = " · coarse preview (colours are not the result's)" if self.model.family.coarse_preview else ""
        self.canvas.show_image(image, self._progress_caption + coarse)


    def _on_model_progress_changed(self, step: int, total: int, eta: float) -> None:
        self._progress_caption = f"Step {step} of {total}" if total else "Preparing…"

    def _on_model_result_ready(self, result) -> None:
        self._showing_preview = False
        name = Path(result.output_path).name if result.output_path else "not saved"
        self.canvas.show_image(self.working_picture.qimage_of(result.image),
                               f"Result · seed {result.seed} · saved as {name}")
        if result.output_path:
            self.output_saved.emit(result.output_path)

    def _on_model_result_notes(self, result) -> None:
        if result.notes:  # e.g. the depth map was cropped to the image's shape: worth more than a status line
            self.notice_banner.show_message(" ".join(result.notes))

    def _on_model_phase_changed(self, phase: str) -> None:
        if phase == "running":
            self.error_banner.hide()
            self.notice_banner.hide()
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
        self.status_label.setText(message)  # never a "Loading…" left standing after a failure

    def _on_model_out_of_memory_offered(self, message: str, label: str) -> None:
        self.error_banner.show_message(message, [(f"Retry with {label}", self.model.retry_lighter)])

    def _on_model_model_info_changed(self, info) -> None:
        if info is not None and info.runtime_notes:  # e.g. fp16 chosen but running on the CPU
            self.notice_banner.show_message(" ".join(info.runtime_notes))

    def storage_dialog(self):
        """File ▸ Storage…: sizes per workspace, the latent cap, purges (non-blocking; returned for tests)."""
        from .storage_dialog import StorageDialog  # imported when first opened: the window shows sooner

        dialog = StorageDialog(self.model.history, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def settings_dialog(self) -> SettingsDialog:
        """Open the device and memory settings (non-blocking; returned so tests can drive it)."""
        from .settings_dialog import (
            SettingsDialog,  # imported when first opened: the window shows sooner
        )

        dialog = SettingsDialog(self.model.devices, self, settings=self.model.settings)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # --- window life -------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            # Loading torch and the model starts only once the window is on screen and painted: started
            # at once, the worker's first imports compete with the first paint for the GIL.
            # The window as context: when it closes first, the call is dropped instead of reaching a deleted worker.
            QTimer.singleShot(PRELOAD_DELAY_MS, self, self.model.preload_model)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.model.settings.store_window_state(self.saveGeometry(), self.saveState())
        self.model.settings.sync()
        self.model.jobs.detach()  # the run cut short by closing stays queued for the next start
        self.model.history.close()  # history changes still queued for the journal are written now
        self._host.shutdown()
        self.model.pool.shutdown()  # several devices (Settings ▸ Devices at once): their processes end with the window
        super().closeEvent(event)
