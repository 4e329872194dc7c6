"""Model files: the default model is found offline, checked, and bad files fail clearly."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from plait import ModelNotFound, ModelSettings, RequestParams, UserMessage
from plait_local import KNOWN_MODELS, LocalProvider, ModelFileError
from plait_local._files import ModelFile, resolve, sha256_of, verify

pytestmark = pytest.mark.anyio
SMOLLM2 = KNOWN_MODELS["smollm2"]


def test_default_model_file_is_installed_and_pinned() -> None:
    file = resolve("smollm2")
    assert file.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert file.path.stat().st_size == SMOLLM2.size == 98_362_432
    assert file.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    verify(file)  # the installed file passes its own checksum


def test_checksum_mismatch_names_file_and_both_hashes(tmp_path: Path) -> None:
    fake = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    fake.write_bytes(b"GGUF not really a model")
    actual = hashlib.sha256(fake.read_bytes()).hexdigest()
    with pytest.raises(ModelFileError) as info:
        verify(ModelFile(fake, SMOLLM2.sha256, SMOLLM2.size))
    message = str(info.value)
    assert str(fake) in message
    assert SMOLLM2.sha256 in message
    assert actual in message
    assert isinstance(info.value, ModelNotFound)  # a rejected request: never retried


async def test_checksum_mismatch_through_the_model(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"\0" * 1024)
    model = LocalProvider().model(str(fake), sha256=SMOLLM2.sha256)
    try:
        with pytest.raises(ModelFileError, match="failed its checksum"):
            await model.request([UserMessage(content="hi")], RequestParams())
    finally:
        await model.aclose()


@pytest.mark.slow
async def test_a_gguf_path_is_a_model(tmp_path: Path) -> None:
    copy = tmp_path / "my model.gguf"
    shutil.copyfile(resolve("smollm2").path, copy)
    model = LocalProvider().model(str(copy), sha256=SMOLLM2.sha256)
    assert model.name == f"local:{copy}"
    try:
        params = RequestParams(settings=ModelSettings(max_tokens=4))
        response = await model.request([UserMessage(content="hi")], params)
    finally:
        await model.aclose()
    assert response.usage.output_tokens > 0
    assert sha256_of(copy) == SMOLLM2.sha256


async def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    model = LocalProvider().model(str(missing))
    try:
        with pytest.raises(ModelFileError, match=r"model file not found: .*nowhere\.gguf"):
            await model.request([UserMessage(content="hi")], RequestParams())
    finally:
        await model.aclose()


def test_unknown_id_lists_the_known_models() -> None:
    with pytest.raises(ModelFileError, match=r"unknown local model 'gpt-9'.*smollm2.*\.gguf"):
        resolve("gpt-9")


async def test_a_file_that_is_not_gguf_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"this is not a model")
    model = LocalProvider().model(str(junk))
    try:
        with pytest.raises(ModelFileError, match=r"could not load .*junk\.gguf"):
            await model.request([UserMessage(content="hi")], RequestParams())
    finally:
        await model.aclose()
