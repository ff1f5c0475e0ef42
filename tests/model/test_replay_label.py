"""A replay branch is recorded as one (each node names the node it re-makes), so its rows say so."""

from PIL import Image

from desktop.core.captions import node_caption
from desktop.core.params import GenerationResult, ModelInfo
from desktop.worker import GenerateRequest
from desktop.worker.history_writer import write_to_history


def _finish(host, request):
    info = ModelInfo("m", "m", "sd", 64, "StableDiffusionImg2ImgPipeline", "cpu", "float32")
    result = GenerationResult(image=Image.new("RGB", (64, 64)), params=request.params.replace(seed=1), model=info,
                              steps_run=1, sampler="PLMS", elapsed=0.1, output_path="/out/x.png")
    result = write_to_history(request.history, result)
    host.worker.finished.emit(result)
    host.worker.job_done.emit(request.job_id)
    return result.history_nodes[-1]


def test_replayed_nodes_name_what_they_remake(model, host, make_image):
    model.set_model("m", preload=False)
    model.load_init_image(make_image())
    model.update_params(prompt="ink", seed=1)
    model.generate()
    original = _finish(host, host.requests[-1])
    assert original.replay_of is None
    assert model.replay(original.id, {"prompt": "pencil"})
    run = host.requests[-1]
    assert isinstance(run, GenerateRequest) and run.params.prompt == "pencil"
    remade = _finish(host, run)
    assert remade.replay_of == original.id and remade.parent == original.parent
    assert node_caption(model.history.tree.get(remade.id)).startswith("↻ replay · pencil")
