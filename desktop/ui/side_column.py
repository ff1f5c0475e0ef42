"""The side column: the model and the panels in folding sections that scroll, and under them, pinned, Generate,
Cancel and the progress, which never scroll away (measured at 1280×800 and 1366×768 in the tests)."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from .section import Section


class SideColumn(QWidget):
    """Scrolling sections (prompt, parameters, depth) above the pinned progress panel."""

    def __init__(self, settings, model_picker, prompt_panel, params_panel, depth_panel, progress_panel, *,
                 depth_in_use: bool = False, style_panels=(), parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sideColumn")
        self.prompt_section = Section("Prompt", prompt_panel, "prompt", settings)
        self.params_section = Section("Parameters", params_panel, "parameters", settings)
        # Depth is folded until used: most runs have no depth map, and it is the tallest panel.
        self.depth_section = Section("Depth control (ControlNet)", depth_panel, "depth", settings,
                                     expanded=depth_in_use)
        content = QWidget()
        content.setObjectName("sidePanels")
        layout = QVBoxLayout(content)
        layout.addWidget(model_picker)
        # The style tools (LoRAs, references): (title, panel, key), folded until opened.
        self.style_sections = [Section(title, panel, key, settings, expanded=False)
                               for title, panel, key in style_panels]
        for section in (self.prompt_section, self.params_section, *self.style_sections, self.depth_section):
            layout.addWidget(section)
        layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("sideScroll")
        self.scroll.setWidget(content)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        # As wide as the panels need plus the vertical scroll bar, so there is never a sideways scroll bar.
        self.scroll.setMinimumWidth(max(360, content.minimumSizeHint().width()
                                        + self.scroll.verticalScrollBar().sizeHint().width()))
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.scroll, 1)
        pinned = QFrame()
        pinned.setObjectName("pinnedActions")
        pinned.setFrameShape(QFrame.Shape.StyledPanel)
        pinned_layout = QVBoxLayout(pinned)
        pinned_layout.setContentsMargins(8, 6, 8, 6)
        pinned_layout.addWidget(progress_panel)
        column.addWidget(pinned)
