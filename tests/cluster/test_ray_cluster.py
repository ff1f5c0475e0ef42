"""A Ray cluster as the devices: a local cluster with two "GPU" slots (custom resources), tiny models, real actors.

One cluster and one pair of actors serve the whole module (starting Ray and torch in two actors takes tens of
seconds on a busy 2-core machine); the test that kills an actor runs last.
"""

from __future__ import annotations

import os
import secrets

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[cluster]' (.ci/run does) runs these")

from desktop.cli.batch import run_batch_command  # noqa: E402
from desktop.cli.main import main  # noqa: E402
from desktop.cluster.batch import run_batch_on_pool  # noqa: E402
from desktop.cluster.connect import actor_env  # noqa: E402
from desktop.cluster.dispatch import wait_ready  # noqa: E402
from desktop.cluster.events import STEP  # noqa: E402
from desktop.cluster.pool_engine import PoolEngine  # noqa: E402
from desktop.cluster.ray_pool import SLOT_RESOURCE, RayPool  # noqa: E402
from desktop.core.batch import MANIFEST_NAME, Manifest  # noqa: E402
from desktop.core.cluster_address import parse_address  # noqa: E402
from desktop.core.errors import ErrorKind, RestyleError  # noqa: E402
from desktop.core.metadata import parse_parameters_text, read_parameters  # noqa: E402
from desktop.core.params import GenerationParams  # noqa: E402
from desktop.model.settings import Settings  # noqa: E402
from tests.ui import conftest as ui_conftest  # noqa: E402

pytestmark = pytest.mark.slow
TIMEOUT = ui_conftest.TIMEOUT
open_window = ui_conftest.open_window  # the window fixture, as the UI tests use it


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster with token auth on, as Ray ≥ 2.59 makes one by default (with a token of this test's
    own in the environment, so ~/.ray is left alone)."""
    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.pop("RAY_AUTH_MODE", None)
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    ray.init(num_cpus=2, resources={SLOT_RESOURCE: 2}, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": actor_env(parse_address("auto"))})
    assert os.environ.get("RAY_AUTH_MODE") == "token"  # the cluster asks for the token
    yield
    ray.shutdown()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def pool(cluster):
    pool = RayPool()
    wait_ready(pool, timeout=240)
    assert [s.ready for s in pool.slots] == [True, True]
    return pool


@pytest.fixture()
def folder(make_folder):
    return make_folder(8, "f", (40, 40))


def test_a_folder_of_eight_spreads_over_two_actors_each_file_once_and_resumes(pool, tiny_model, folder, tmp_path,
                                                                              data_dir, capsys):
    out = tmp_path / "out"
    argv = ["batch", str(folder), str(out), "--model", str(tiny_model), "--prompt", "woodcut", "--steps", "3",
            "--strength", "0.6", "--seed", "4", "--data-dir", str(data_dir), "--cluster", "auto"]

    def crash(source, target):
        raise KeyboardInterrupt  # the client stops (Ctrl+C) right after its first picture is saved

    assert run_batch_command(argv[1:], on_file_done=crash) == 1
    assert "run the same command again" in capsys.readouterr().err
    assert len(Manifest(out / MANIFEST_NAME).files) == 1
    assert main(argv) == 0  # the same command resumes from the manifest
    captured = capsys.readouterr()
    assert "7 restyled" in captured.out and "1 already done" in captured.out
    assert "done on slot 1" in captured.err and "done on slot 2" in captured.err  # both actors worked
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == [f"f{k}.png" for k in range(8)]
    assert sorted(Manifest(out / MANIFEST_NAME).files) == names  # each recorded once
    parsed = parse_parameters_text(read_parameters(out / "f3.png"))  # the same metadata as a local run writes
    assert parsed.prompt == "woodcut" and parsed.get_int("Seed") == 4 and parsed.get_float("Denoising strength") == 0.6
    assert main(argv) == 0
    assert "8 already done" in capsys.readouterr().out
    assert len(pool.slots) == 2  # the command left the actors for this process's next pool


def test_previews_stream_back_and_cancel_stops_the_remote_run(pool, tiny_model, make_image):
    engine = PoolEngine(pool)
    params = GenerationParams(model=str(tiny_model), prompt="ink", init_image=str(make_image(size=(64, 64))),
                              steps=5, strength=1.0, seed=2)
    steps = []
    result = engine.generate(params, on_step=steps.append)
    assert [s.step for s in steps] == list(range(1, steps[-1].total + 1))
    assert all(s.preview is not None and s.preview.shape[2] == 3 for s in steps)  # a picture at every step
    assert result.params.init_image == params.init_image and result.latents is not None

    seen = []
    with pytest.raises(RestyleError) as error:
        engine.generate(params.replace(steps=60), on_step=lambda s: seen.append(s.step),
                        cancelled=lambda: len(seen) >= 2)
    assert error.value.kind is ErrorKind.CANCELLED
    assert max(seen) <= 4  # stopped within a step or two of asking (steps stream while the cancel travels)
    assert engine.generate(params, on_step=None).image.size == (64, 64)  # the actor is free again at once


def test_generate_on_the_cluster_saves_the_picture_here(pool, tiny_model, make_image, tmp_path, data_dir, capsys):
    out = tmp_path / "one.png"
    assert main(["generate", "--model", str(tiny_model), "--prompt", "chalk", "--init", str(make_image()),
                 "--steps", "3", "--seed", "8", "--output", str(out), "--data-dir", str(data_dir),
                 "--cluster", "auto"]) == 0
    assert str(out) in capsys.readouterr().out
    parsed = parse_parameters_text(read_parameters(out))
    assert parsed.prompt == "chalk" and parsed.get_int("Seed") == 8


def test_the_window_with_a_cluster_backend_shows_previews_and_cancels(pool, qtbot, open_window, tiny_model,
                                                                     make_image, data_dir):
    settings = Settings(data_dir)
    settings.cluster_address = "auto"  # Settings ▸ Run on: Ray cluster at auto, chosen in an earlier session
    settings.sync()
    window = open_window(["--model", str(tiny_model), str(make_image())])
    statuses, previews = [], []
    window.model.status_changed.connect(statuses.append)
    window.model.preview_changed.connect(previews.append)
    window.model.update_params(prompt="charcoal", steps=5, strength=1.0, seed=3)
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT) as saved:
        assert window.model.generate()
    assert any("Ray cluster" in line for line in statuses)  # it ran on the cluster, not here
    result = window.model.last_result
    assert len(previews) == result.steps_run >= 5  # a preview for every step, streamed back from the actor
    parsed = parse_parameters_text(read_parameters(saved.args[0]))  # saved here, with the usual metadata
    assert parsed.prompt == "charcoal" and parsed.get_int("Seed") == 3
    assert result.history_nodes and result.history_nodes[-1].id in window.model.history.tree

    window.model.update_params(steps=60)
    cancel_at = []

    def on_progress(step, total, eta):
        if step == 2 and not cancel_at:
            cancel_at.append(step)
            window.model.cancel()

    window.model.progress_changed.connect(on_progress)
    outputs = sorted(window.model.settings.output_dir.iterdir())
    with qtbot.waitSignal(window.model.phase_changed, timeout=TIMEOUT, check_params_cb=lambda p: p == "idle"):
        assert window.model.generate()
    assert cancel_at == [2]
    assert sorted(window.model.settings.output_dir.iterdir()) == outputs  # nothing half-made was saved


def test_the_windows_queue_fans_out_over_the_clusters_actors(pool, qtbot, open_window, tiny_model, make_image,
                                                             data_dir):
    settings = Settings(data_dir)
    settings.cluster_address = "auto"  # Settings ▸ Run on: the cluster; Devices at once: every GPU (all actors)
    settings.device_workers = 0
    settings.sync()
    window = open_window(["--model", str(tiny_model), str(make_image(size=(64, 64)))])
    window.model.update_params(prompt="ink", steps=4, strength=0.6, seed=1)
    host = window.model.pool.ensure_host()
    made_on: dict[str, str] = {}  # history node -> the actor that made it
    host.finished.connect(lambda _job, device, result: made_on.__setitem__(result.history_nodes[-1].id, device))
    assert window.model.jobs.enqueue_batch(4)
    generations = lambda: [n for n in window.model.history.tree if n.kind == "generation"]  # noqa: E731
    qtbot.waitUntil(lambda: len(generations()) >= 4 and window.model.phase.value == "idle", timeout=TIMEOUT)
    assert len(generations()) == 4 and len({n.seed for n in generations()}) == 4  # each run once
    assert set(made_on.values()) == {"ray-1", "ray-2"}  # both of the cluster's actors took runs
    assert {row.id for row in window.model.pool.rows} == {"ray-1", "ray-2"}
    assert all(window.model.history.workspace.image_path(n).is_file() for n in generations())  # saved here


def test_an_actor_killed_mid_job_has_its_job_done_on_the_other(pool, tiny_model, folder, tmp_path):
    killed: list[str] = []

    class KillFirstStep:  # the pool as the batch sees it, but actor 1 is killed at its first step
        def __getattr__(self, name):
            return getattr(pool, name)

        def next_event(self, timeout=0.1):
            event = pool.next_event(timeout)
            if event is not None and event.kind == STEP and event.slot == "ray-1" and not killed:
                killed.append(event.job_id)
                ray.kill(pool.actor("ray-1"))
            return event

    lines: list[str] = []
    params = GenerationParams(model=str(tiny_model), prompt="ink", steps=8, strength=1.0, seed=9)
    report = run_batch_on_pool(KillFirstStep(), folder, tmp_path / "out", params, status=lines.append)
    assert killed, "actor 1 never ran a step"
    assert sorted(report.done) == [f"f{k}.png" for k in range(8)]  # each once, none lost
    killed_file = f"f{int(killed[0]) - 1}.png"  # the batch numbers its jobs 1, 2, … in file order
    assert report.devices[killed_file].startswith("slot 2")
    assert any("was lost" in line and "done again on another device" in line for line in lines)
    assert len(list((tmp_path / "out").glob("*.png"))) == 8
    assert [s.id for s in pool.slots] == ["ray-2"]
