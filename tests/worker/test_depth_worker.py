"""Depth estimation on the worker thread: the map arrives as a file, refusals as sentences, the UI never waits."""

from pathlib import Path

import numpy as np
from PIL import Image

from desktop.worker import EstimateDepthRequest

from .conftest import TIMEOUT


def test_an_estimate_arrives_as_a_png_the_size_of_the_image(qtbot, host, tiny_depth_model, make_image, tmp_path):
    target = tmp_path / "inputs" / "depth.png"
    request = EstimateDepthRequest(str(make_image(size=(96, 64))), str(target), str(tiny_depth_model), "cpu")
    statuses = []
    host.worker.status.connect(statuses.append)
    with qtbot.waitSignal(host.worker.depth_ready, timeout=TIMEOUT) as ready:
        host.submit(request)
    assert ready.args == [request.job_id, str(target)]
    depth = np.asarray(Image.open(target))
    assert depth.shape == (64, 96, 3) and depth.min() == 0 and depth.max() == 255
    assert any("Estimating depth with tiny-depth" in s for s in statuses)


def test_estimating_without_an_image_is_refused(qtbot, host, tmp_path):
    request = EstimateDepthRequest("", str(tmp_path / "depth.png"))
    with qtbot.waitSignal(host.worker.failed, timeout=TIMEOUT) as failed:
        host.submit(request)
    assert failed.args == [request.job_id, "bad_input",
                           "Drop or open an image first: depth is estimated from the init image."]
    assert not (tmp_path / "depth.png").exists()


def test_a_folder_that_is_not_a_depth_model_fails_with_a_sentence_and_the_worker_goes_on(
        qtbot, host, tiny_model, tiny_depth_model, make_image, tmp_path):
    bad = EstimateDepthRequest(str(make_image()), str(tmp_path / "a.png"), str(tiny_model), "cpu")
    with qtbot.waitSignal(host.worker.failed, timeout=TIMEOUT) as failed:
        host.submit(bad)
    assert failed.args[:2] == [bad.job_id, "model_missing"] and "not a depth model folder" in failed.args[2]
    with qtbot.waitSignal(host.worker.depth_ready, timeout=TIMEOUT):
        host.submit(EstimateDepthRequest(str(make_image()), str(tmp_path / "b.png"), str(tiny_depth_model), "cpu"))
    assert Path(tmp_path / "b.png").is_file() and not (tmp_path / "a.png").exists()
