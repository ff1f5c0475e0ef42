"""The Settings dialog: device, precision and memory savings. Edits a RuntimeSettings; the session persists it."""

from __future__ import annotations

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop.core.runtime import RuntimeSettings, package_installed, xformers_installed
from desktop.model.device_state import DEVICE_NAMES

from . import theme
from .run_on_box import RunOnBox
from .workbench_box import WorkbenchBox

DTYPE_LABELS = {"auto": "Automatic (fp16 on a GPU, fp32 on the CPU)", "fp16": "fp16 (half)", "bf16": "bf16",
                "fp32": "fp32 (full; slowest, most memory)"}
OFFLOAD_LABELS = {"none": "None (everything on the GPU; fastest)",
                  "model": "Model offload (one part on the GPU at a time)",
                  "sequential": "Sequential offload (least memory; very slow)"}
ATTENTION_LABELS = {"sdpa": "PyTorch SDPA (default)", "xformers": "xFormers"}
QUANTIZATION_LABELS = {"none": "None (the weights as saved)", "bnb-8bit": "8-bit (bitsandbytes, CUDA)",
                       "bnb-4bit": "4-bit NF4 (bitsandbytes, CUDA)", "torchao-int8": "int8 weights (torchao)"}
T5_NOTE = ("SD 3.5 without T5 needs about 9.5 GB less and reads prompts with its CLIP encoders only (77 tokens): "
           "weaker at text in the picture and at long descriptions.")
# Settings ▸ Devices at once: how many devices the window's queue runs on at once (desktop/model/device_pool.py).
WORKERS_LABELS = {1: "One (the default)", 0: "Every GPU (one run per card)", 2: "2 (GPUs, or CPU workers)",
                  3: "3 (GPUs, or CPU workers)", 4: "4 (GPUs, or CPU workers)"}
WORKERS_TIP = ("With more than one, the queue's runs (sweeps, batches, folders) go to whichever device is free, each "
               "with its own copy of the model: one per GPU, or on a computer without one, CPU workers that share "
               "the cores. On a Ray cluster (Run on), the same number of the cluster's GPUs; Every GPU: all of "
               "them. The queue's Device choice pins a run to one of them.")
COMPILE_NOTE = "The first run after loading is slow (compiling), and so is the first run at a new size."


def _combo(name: str, labels: dict[str, str]) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for value, label in labels.items():
        combo.addItem(label, value)
    return combo


def _enable_item(combo: QComboBox, value: str, enabled: bool, tip: str = "") -> None:
    model = combo.model()
    if isinstance(model, QStandardItemModel):
        item = model.item(combo.findData(value))
        item.setEnabled(enabled)
        item.setToolTip(tip)


class SettingsDialog(QDialog):
    """Devices and memory. ``settings()`` is what the user chose; ``apply`` hands it to the session."""

    def __init__(self, devices, parent: QWidget | None = None, settings=None):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self._devices = devices  # the session's DeviceState
        runtime = devices.runtime

        present = devices.available
        resolved = devices.resolved_device()
        auto = f"Automatic ({DEVICE_NAMES[resolved]})" if resolved else "Automatic (CUDA → MPS → CPU)"
        self.device_combo = _combo("deviceCombo", {"auto": auto, **DEVICE_NAMES})
        for device in DEVICE_NAMES:
            missing = present is not None and device not in present
            _enable_item(self.device_combo, device, not missing, "Not present on this machine" if missing else "")
        self.dtype_combo = _combo("dtypeCombo", DTYPE_LABELS)
        self.workers_combo = QComboBox()
        self.workers_combo.setObjectName("deviceWorkersCombo")
        self.workers_combo.setToolTip(WORKERS_TIP)
        for value, label in WORKERS_LABELS.items():
            self.workers_combo.addItem(label, value)
        if self.workers_combo.findData(devices.workers) < 0:  # a number set elsewhere (up to 8)
            self.workers_combo.addItem(f"{devices.workers} (GPUs, or CPU workers)", devices.workers)
        self.workers_combo.setCurrentIndex(self.workers_combo.findData(devices.workers))
        self.offload_combo = _combo("offloadCombo", OFFLOAD_LABELS)
        self.attention_combo = _combo("attentionCombo", ATTENTION_LABELS)
        if not xformers_installed():
            _enable_item(self.attention_combo, "xformers", False, "xFormers is not installed")
        self.vae_tiling_check = QCheckBox("VAE tiling (large images decode tile by tile)")
        self.vae_tiling_check.setObjectName("vaeTilingCheck")
        self.vae_slicing_check = QCheckBox("VAE slicing")
        self.vae_slicing_check.setObjectName("vaeSlicingCheck")
        self.attention_slicing_check = QCheckBox("Attention slicing (saves memory; slower with SDPA)")
        self.attention_slicing_check.setObjectName("attentionSlicingCheck")
        self.compile_check = QCheckBox("Compile the UNet with torch.compile")
        self.compile_check.setObjectName("compileCheck")
        self.channels_last_check = QCheckBox("Channels-last memory format for the UNet")
        self.channels_last_check.setObjectName("channelsLastCheck")
        self.t5_check = QCheckBox("SD 3.5: load the T5 text encoder")
        self.t5_check.setObjectName("t5EncoderCheck")
        self.t5_check.setToolTip(T5_NOTE)
        self.quantization_combo = _combo("quantizationCombo", QUANTIZATION_LABELS)
        self.quantization_combo.setToolTip("SD 3.5 and FLUX.1: quantize the transformer and T5 as they load. A GGUF "
                                           "transformer file (.gguf) is already quantized and needs none of these.")
        for value in ("bnb-8bit", "bnb-4bit", "torchao-int8"):
            package = "bitsandbytes" if value.startswith("bnb") else "torchao"
            if not package_installed(package):
                _enable_item(self.quantization_combo, value, False, f"{package} is not installed")
        compile_note = QLabel(COMPILE_NOTE)
        compile_note.setWordWrap(True)
        compile_note.setObjectName("compileNoteLabel")
        self.error_label = QLabel()
        self.error_label.setObjectName("settingsErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {theme.tone('error')};")
        self.error_label.hide()

        device_box = QGroupBox("Device")
        form = QFormLayout(device_box)
        form.addRow("Device", self.device_combo)
        form.addRow("Precision", self.dtype_combo)
        form.addRow("Devices at once", self.workers_combo)
        memory_box = QGroupBox("Memory")
        memory = QVBoxLayout(memory_box)
        offload_form = QFormLayout()
        offload_form.addRow("CPU offload", self.offload_combo)
        memory.addLayout(offload_form)
        for check in (self.vae_tiling_check, self.vae_slicing_check, self.attention_slicing_check):
            memory.addWidget(check)
        large_form = QFormLayout()  # SD 3.5 and FLUX.1: the 8–12 B transformers and T5
        large_form.addRow("Quantization", self.quantization_combo)
        memory.addLayout(large_form)
        memory.addWidget(self.t5_check)
        speed_box = QGroupBox("Speed")
        speed = QVBoxLayout(speed_box)
        attention_form = QFormLayout()
        attention_form.addRow("Attention", self.attention_combo)
        speed.addLayout(attention_form)
        speed.addWidget(self.compile_check)
        speed.addWidget(compile_note)
        speed.addWidget(self.channels_last_check)
        # Theme, previews and upscalers (workbench_box.py); only when the session's settings are given.
        self.workbench = WorkbenchBox(settings, runtime) if settings is not None else None
        self.run_on = RunOnBox(devices.cluster)  # this computer, or a Ray cluster (run_on_box.py)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.run_on, device_box, memory_box, speed_box, self.workbench, self.error_label, buttons):
            if widget is not None:
                layout.addWidget(widget)
        self.show_settings(runtime)

    def show_settings(self, runtime: RuntimeSettings) -> None:
        """Set every control from ``runtime``."""
        for combo, value in ((self.device_combo, runtime.device), (self.dtype_combo, runtime.dtype),
                             (self.offload_combo, runtime.offload), (self.attention_combo, runtime.attention),
                             (self.quantization_combo, runtime.quantization)):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        self.vae_tiling_check.setChecked(runtime.vae_tiling)
        self.vae_slicing_check.setChecked(runtime.vae_slicing)
        self.attention_slicing_check.setChecked(runtime.attention_slicing)
        self.compile_check.setChecked(runtime.compile_unet)
        self.channels_last_check.setChecked(runtime.channels_last)
        self.t5_check.setChecked(runtime.t5_encoder)

    def settings(self) -> RuntimeSettings:
        """The settings the controls show."""
        return RuntimeSettings(
            device=self.device_combo.currentData(), dtype=self.dtype_combo.currentData(),
            offload=self.offload_combo.currentData(), vae_tiling=self.vae_tiling_check.isChecked(),
            vae_slicing=self.vae_slicing_check.isChecked(),
            attention_slicing=self.attention_slicing_check.isChecked(),
            attention=self.attention_combo.currentData(), compile_unet=self.compile_check.isChecked(),
            channels_last=self.channels_last_check.isChecked(), t5_encoder=self.t5_check.isChecked(),
            quantization=self.quantization_combo.currentData(),
        ).replace(**(self.workbench.runtime_changes() if self.workbench is not None else {}))

    def apply(self) -> bool:
        """Hand the settings to the session and close; or show why they were refused and stay open."""
        runtime = self.settings()
        refusal = self._devices.refusal(runtime) or self._devices.cluster_refusal(self.run_on.address())
        if refusal is not None:
            self.error_label.setText(refusal)
            self.error_label.show()
            return False
        self._devices.set_runtime(runtime)
        self._devices.set_cluster(self.run_on.address())
        self._devices.set_workers(self.workers_combo.currentData())
        if self.workbench is not None:
            self.workbench.apply()
        self.accept()
        return True
