"""The inference worker: the one place where Qt calls the engine.

May import QtCore and QtGui's QImage (images cross threads as QImage that own their pixels), and the engine and
the device pools (desktop.cluster) lazily, on a worker thread, so importing this package never imports torch.
"""

from .history_writer import HistoryTarget
from .host import WorkerHost
from .pool_host import DeviceRow, PoolHost
from .requests import (
           EngineOptionsRequest,
           EstimateDepthRequest,
           GenerateRequest,
           LoadModelRequest,
           UnloadModelRequest,
           UpscaleRequest,
)

__all__ = [
           "DeviceRow",
           "EngineOptionsRequest",
           "EstimateDepthRequest",
           "GenerateRequest",
           "HistoryTarget",
           "LoadModelRequest",
           "PoolHost",
           "UnloadModelRequest",
           "UpscaleRequest",
           "WorkerHost",
]
