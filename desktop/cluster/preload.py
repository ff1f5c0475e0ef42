"""Imported once by the fork server of the local workers: torch, diffusers and the pipeline classes a run needs.

Each worker is forked from that server with all of this already in memory, so a pool of N workers starts in
well under a second instead of N × the seconds these imports take (diffusers alone loads ~3,200 modules).
"""

import diffusers
import torch  # noqa: F401
import transformers  # noqa: F401

from desktop.engine.runner import quiet_libraries

quiet_libraries()  # before the classes resolve: transformers' advisory warnings stay out of the terminal
# diffusers resolves its classes lazily: resolve the ones every load needs, once, here.
diffusers.AutoPipelineForImage2Image, diffusers.AutoPipelineForText2Image  # noqa: B018
diffusers.StableDiffusionImg2ImgPipeline, diffusers.StableDiffusionPipeline  # noqa: B018
