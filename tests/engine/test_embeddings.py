"""Textual-inversion embeddings on the tiny models: three file formats, triggered by name, both SDXL encoders."""

import numpy as np
import pytest

from desktop.core.errors import RestyleError
from desktop.core.output import parameters_text
from desktop.core.params import GenerationParams
from desktop.core.style_files import embedding_hash
from desktop.engine.runner import Engine
from desktop.engine.styles import StyleFolders


@pytest.fixture(scope="module")
def engine(tiny_style_files):
    engine = Engine()
    engine.style_folders = StyleFolders(embeddings=(str(tiny_style_files["embedding"].parent),
                                                    str(tiny_style_files["embedding_diffusers"].parent)))
    return engine


def _run(engine, model, prompt, **changes):
    params = GenerationParams(model=str(model), prompt=prompt, steps=3, seed=4, width=64, height=64).replace(**changes)
    result = engine.generate(params)
    return result, np.asarray(result.image).astype(int)


def test_an_embedding_named_in_the_prompt_changes_the_picture_and_is_recorded(engine, tiny_model, tiny_style_files):
    _, plain = _run(engine, tiny_model, "a quiet harbour")
    result, styled = _run(engine, tiny_model, "a quiet harbour, grainy")
    _, prefixed = _run(engine, tiny_model, "a quiet harbour, embedding:grainy")
    _, word = _run(engine, tiny_model, "a quiet harbour, grain")  # not the name: plain words
    assert np.abs(styled - plain).max() > 2
    assert np.array_equal(styled, prefixed)
    assert not np.array_equal(styled, word)
    assert f"TI hashes: \"grainy: {embedding_hash(tiny_style_files['embedding'])}\"" in parameters_text(result)
    assert result.params.prompt == "a quiet harbour, grainy"  # the prompt as typed


def test_embeddings_load_once_and_work_in_weighted_prompts(engine, tiny_model):
    _run(engine, tiny_model, "grainy sea")
    loads = engine._loaded.styles.embeddings.loads
    _, a = _run(engine, tiny_model, "grainy sea")
    _, weighted = _run(engine, tiny_model, "(grainy:1.4) sea")
    assert engine._loaded.styles.embeddings.loads == loads
    assert np.abs(weighted - a).max() > 0


def test_the_diffusers_format_works_and_a_pickled_one_needs_permission(engine, tiny_model, tiny_style_files):
    _, plain = _run(engine, tiny_model, "sea")
    _, sparkle = _run(engine, tiny_model, "sea sparkle")
    assert np.abs(sparkle - plain).max() > 2
    pt = str(tiny_style_files["embedding_pt"])
    with pytest.raises(RestyleError) as refused:
        _run(engine, tiny_model, "sea oldstyle", embeddings=(pt,))
    assert "pickled embedding" in refused.value.message and "--allow-pickles" in refused.value.message
    allowed = Engine(allow_pickles=True)
    _, old = _run(allowed, tiny_model, "sea oldstyle", embeddings=(pt,))
    _, without = _run(allowed, tiny_model, "sea oldstyle")
    assert np.abs(old - without).max() > 2


def test_sdxl_embeddings_go_into_both_encoders_and_sd_ones_are_refused(tiny_sdxl, tiny_style_files):
    engine = Engine()
    xl = str(tiny_style_files["sdxl_embedding"])
    _, plain = _run(engine, tiny_sdxl, "sea xl-grain")
    _, styled = _run(engine, tiny_sdxl, "sea xl-grain", embeddings=(xl,))
    assert np.abs(styled - plain).max() > 2
    pipe = engine._loaded.img2img
    assert "<ti0v0>" in pipe.tokenizer.get_vocab() and "<ti0v0>" in pipe.tokenizer_2.get_vocab()
    for _ in range(2):  # refused before anything is changed, so the second try says the same
        with pytest.raises(RestyleError) as error:
            _run(engine, tiny_sdxl, "sea grainy", embeddings=(str(tiny_style_files["embedding"]),))
        assert "made for SD 1.x/2.x" in error.value.message and "SDXL" in error.value.message
