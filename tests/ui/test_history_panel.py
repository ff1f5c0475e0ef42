"""The history tree in the window: chains, branches, latent chaining, compare, export, replay, restart."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QPushButton, QTreeView

from .conftest import TIMEOUT


def _run(qtbot, window, action=None):
    """Start a run (Generate by default) and wait for its PNG."""
    with qtbot.waitSignal(window.output_saved, timeout=TIMEOUT):
        (action or window.model.generate)()
    return window.model.history.tree.get(window.model.history.selected_id)


def _window(open_window, tiny_model, make_image, **params):
    window = open_window(["--model", str(tiny_model), str(make_image())])
    window.model.update_params(prompt="woodcut", steps=4, strength=0.6, seed=1, **params)
    return window


def _button(window, name):
    return window.findChild(QPushButton, name)


def test_results_chain_and_branch_and_continue_in_latent_space(qtbot, open_window, tiny_model, make_image):
    window = _window(open_window, tiny_model, make_image)
    assert window.history_panel.empty_label.isVisible()  # an empty history says what will appear there
    first = _run(qtbot, window)
    assert not window.history_panel.empty_label.isVisible()
    tree = window.model.history.tree
    root = tree.get(first.parent)
    assert root.kind == "import" and first.chain_mode == "pixels"

    qtbot.mouseClick(_button(window, "continueButton"), Qt.MouseButton.LeftButton)  # continue from `first`
    second = _run(qtbot, window)
    assert second.parent == first.id and second.chain_mode == "latent"  # same VAE: no decode/encode

    window.model.history.select(first.id)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    third = _run(qtbot, window)
    assert third.parent == first.id  # a branch: `second` is untouched
    assert [c.id for c in tree.children(first.id)] == [second.id, third.id]

    view = window.findChild(QTreeView, "historyView")
    model = view.model()
    root_index = model.index(0, 0)
    # The chain reads down one column under its picture; the branch is nested under the result it came from.
    assert model.rowCount() == 1 and model.rowCount(root_index) == 2
    first_index, second_index = model.index(0, 0, root_index), model.index(1, 0, root_index)
    assert [model.node_at(i).id for i in (first_index, second_index)] == [first.id, second.id]
    assert model.rowCount(first_index) == 1 and model.node_at(model.index(0, 0, first_index)).id == third.id
    assert model.data(model.index(0, 0, first_index)).startswith("↳ ")  # says it starts a branch
    assert "woodcut" in model.data(second_index, Qt.ItemDataRole.ToolTipRole)

    # Generating again from the same dropped picture reuses its root instead of importing it twice.
    window.model.load_init_image(Path(root.source))
    _run(qtbot, window)
    assert len([n for n in tree if n.kind == "import"]) == 2  # a fresh drop is a new root


def test_a_new_result_arrives_with_its_thumbnail_and_its_row_shows_it(qtbot, open_window, tiny_model, make_image,
                                                                    monkeypatch):
    import desktop.core.workspace as workspace_module

    made_by_window = []  # thumbnails the rows had to make themselves (as for an older workspace)
    real = workspace_module.write_thumbnail

    def spy(folder, node_id, *args, **kwargs):
        made_by_window.append(node_id)
        return real(folder, node_id, *args, **kwargs)

    monkeypatch.setattr(workspace_module, "write_thumbnail", spy)
    window = _window(open_window, tiny_model, make_image)
    history = window.model.history
    thumbs = history.workspace.folder / "thumbs"
    on_arrival = {}  # node id -> its thumbnail was on disk when the window first heard of the node
    history.nodes_added.connect(lambda ids: on_arrival.update({i: (thumbs / f"{i}.png").is_file() for i in ids}))
    result = _run(qtbot, window)
    nodes = [result.parent, result.id]  # the picture it started from (imported with it) and the result
    assert on_arrival == dict.fromkeys(nodes, True)
    model = window.findChild(QTreeView, "historyView").model()
    qtbot.waitUntil(lambda: all(model.data(model.node_index(n), Qt.ItemDataRole.DecorationRole) for n in nodes),
                    timeout=TIMEOUT)
    for node_id in nodes:
        icon = model.data(model.node_index(node_id), Qt.ItemDataRole.DecorationRole)
        thumb = QImage(str(thumbs / f"{node_id}.png"))
        shown = icon.pixmap(icon.availableSizes()[0]).toImage()
        assert shown.size() == thumb.size() and shown.pixelColor(20, 30) == thumb.pixelColor(20, 30)
    assert made_by_window == []  # the rows only read the small files the worker wrote


def test_double_click_continues_and_a_restart_restores_the_tree(qtbot, open_window, tiny_model, make_image):
    window = _window(open_window, tiny_model, make_image)
    first = _run(qtbot, window)
    view = window.findChild(QTreeView, "historyView")
    index = view.model().node_index(first.id)
    view.doubleClicked.emit(index)
    assert window.model.init_image.path == window.model.history.workspace.image_path(first.id)
    second = _run(qtbot, window)
    ids = [n.id for n in window.model.history.tree]
    window.close()

    reopened = open_window([])
    history = reopened.model.history
    assert [n.id for n in history.tree] == ids
    assert history.selected_id == second.id
    assert history.tree.get(second.id).parent == first.id
    assert "woodcut" in reopened.canvas.caption  # the last selected image is on the canvas again


def test_star_delete_and_tree_navigation(qtbot, open_window, tiny_model, make_image, monkeypatch):
    window = _window(open_window, tiny_model, make_image)
    first = _run(qtbot, window)
    window.model.continue_from(first.id)
    second = _run(qtbot, window)
    history = window.model.history

    qtbot.mouseClick(_button(window, "starButton"), Qt.MouseButton.LeftButton)
    assert history.tree.get(second.id).starred
    view = window.findChild(QTreeView, "historyView")
    assert view.model().data(view.model().node_index(second.id)).startswith("★")

    window.canvas.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert history.selected_id == first.id
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert history.selected_id == second.id

    asked = []
    monkeypatch.setattr(window, "confirm", lambda question: asked.append(question) or False)
    history.select(first.id)
    qtbot.mouseClick(_button(window, "deleteButton"), Qt.MouseButton.LeftButton)
    assert first.id in history.tree and "1 image" in asked[0]  # refused: nothing deleted
    monkeypatch.setattr(window, "confirm", lambda question: True)
    image_files = [history.workspace.image_path(n) for n in (first, second)]
    qtbot.mouseClick(_button(window, "deleteButton"), Qt.MouseButton.LeftButton)
    assert first.id not in history.tree and second.id not in history.tree
    assert history.workspace.flush()  # the files go on the journal thread, once the deletion is on disk
    assert not any(p.exists() for p in image_files)
    assert history.selected_id == first.parent  # the selection moved to the parent


def test_compare_shows_parent_left_and_child_right(qtbot, open_window, tiny_model, make_image):
    window = _window(open_window, tiny_model, make_image)
    child = _run(qtbot, window)
    qtbot.mouseClick(_button(window, "compareButton"), Qt.MouseButton.LeftButton)
    canvas = window.canvas
    assert canvas.comparing
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.rect().center())
    assert abs(canvas.split - 0.5) < 0.05
    canvas.set_split(1.0)  # all "before": the imported picture fills the image area
    workspace = window.model.history.workspace

    def shown_and_expected(node_id):
        rect = canvas._image_rect()
        shot = canvas.grab().toImage()
        color = shot.pixelColor(int(rect.left() + rect.width() * 0.8), int(rect.top() + rect.height() * 0.8))
        source = Image.open(workspace.image_path(node_id)).convert("RGB")
        expected = source.getpixel((int(source.width * 0.8), int(source.height * 0.8)))
        return max(abs(a - b) for a, b in zip((color.red(), color.green(), color.blue()), expected, strict=True))

    canvas.set_split(1.0)  # all "before": the imported picture fills the image area
    assert shown_and_expected(child.parent) < 40
    canvas.set_split(0.0)  # all "after": the result
    assert shown_and_expected(child.id) < 40


def test_export_a_chain_as_one_grid(qtbot, open_window, tiny_model, make_image, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window = _window(open_window, tiny_model, make_image)
    first = _run(qtbot, window)
    window.model.continue_from(first.id)
    _run(qtbot, window)
    target = tmp_path / "chain.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(_button(window, "exportGridButton"), Qt.MouseButton.LeftButton)
    grid = Image.open(target)
    assert grid.width > 3 * 300  # import → first → second, side by side


def test_auto_continue_runs_passes_with_a_strength_curve(qtbot, open_window, tiny_model, make_image):
    window = _window(open_window, tiny_model, make_image)
    panel = window.history_panel
    panel.loop_count.setValue(3)
    panel.loop_end_strength.setValue(0.3)
    panel.loop_check.setChecked(True)
    done = []
    window.output_saved.connect(done.append)
    window.model.generate()
    qtbot.waitUntil(lambda: len(done) == 3 and window.model.phase.value == "idle", timeout=TIMEOUT)
    tree = window.model.history.tree
    chain = tree.path_to_root(window.model.history.selected_id)
    assert [n.kind for n in chain] == ["import", "generation", "generation", "generation"]
    assert [n.params["strength"] for n in chain[1:]] == [0.6, 0.45, 0.3]
    assert window.model.params.strength == 0.6  # the slider is left as the artist set it


def test_replay_a_branch_with_one_setting_changed(qtbot, open_window, tiny_model, make_image):
    window = _window(open_window, tiny_model, make_image)
    first = _run(qtbot, window)
    window.model.continue_from(first.id)
    second = _run(qtbot, window)
    done = []
    window.output_saved.connect(done.append)
    errors = []
    window.model.error_raised.connect(lambda kind, message: errors.append(message))
    assert window.model.replay(second.id, {"steps": 3}), errors
    qtbot.waitUntil(lambda: len(done) == 2 and window.model.phase.value == "idle", timeout=TIMEOUT)
    tree = window.model.history.tree
    new_first, new_second = tree.path_to_root(window.model.history.selected_id)[1:]
    assert new_first.parent == first.parent and new_first.id != first.id  # a sibling branch
    assert new_second.parent == new_first.id
    assert (new_first.seed, new_second.seed) == (first.seed, second.seed)
    assert new_first.params["steps"] == new_second.params["steps"] == 3


def test_a_workspace_saved_as_one_file_opens_elsewhere(qtbot, open_window, tiny_model, make_image, tmp_path):
    window = _window(open_window, tiny_model, make_image)
    _run(qtbot, window)
    ids = sorted(n.id for n in window.model.history.tree)
    saved = window.model.history.save_as(tmp_path / "share.restyle")
    assert saved.is_file()
    window.model.history.delete(window.model.history.tree.roots()[0].id)
    assert len(window.model.history.tree) == 0
    assert window.model.history.open_file(saved)
    assert sorted(n.id for n in window.model.history.tree) == ids
    assert window.model.settings.workspace_dir != tmp_path


def test_a_finished_run_stays_on_the_canvas_as_the_result_it_is(qtbot, open_window, tiny_model, make_image):
    window = _window(open_window, tiny_model, make_image)
    node = _run(qtbot, window)
    init = window.model.init_image
    assert window.model.source_node == node.id and init.loaded  # the result's own pixels, not read back
    window.working_picture.wait()
    qtbot.wait(50)
    assert window.canvas.caption.startswith(f"Result · seed {node.seed}")  # not replaced by a read of the file
    shown = window.canvas.image
    assert (shown.width(), shown.height()) == init.size
    assert window.working_picture.qimage_of(init.image) is shown  # the result's pixels converted once


def test_the_keyboard_stars_and_deletes_the_selected_image_but_not_while_typing(qtbot, open_window, tiny_model,
                                                                                make_image, monkeypatch):
    window = _window(open_window, tiny_model, make_image)
    node = _run(qtbot, window)
    history = window.model.history
    asked = []
    monkeypatch.setattr(window, "confirm", lambda question: asked.append(question) or True)
    view = window.findChild(QTreeView, "historyView")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert history.tree.get(node.id).starred
    prompt = window.prompt_panel.prompt_edit
    prompt.setFocus()
    qtbot.keyClick(prompt, Qt.Key.Key_Home)
    qtbot.keyClick(prompt, Qt.Key.Key_Delete)  # deletes a letter of the prompt, not the picture
    assert asked == [] and node.id in history.tree and window.model.params.prompt == "oodcut"
    queue = window.queue_panel.view
    window.side_tabs.setCurrentIndex(window.side_tabs.indexOf(window.queue_panel))
    queue.setFocus()
    assert queue.hasFocus()
    qtbot.keyClick(queue, Qt.Key.Key_Delete)  # the queue's, not the history's
    assert asked == [] and node.id in history.tree
    window.side_tabs.setCurrentIndex(0)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert len(asked) == 1 and node.id not in history.tree
