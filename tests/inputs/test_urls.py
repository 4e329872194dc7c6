"""URL parts: passed as URLs where the API takes them; where it needs bytes, plait
downloads only when the run allows it (``fetch_urls=True``), else refuses up front."""

from __future__ import annotations

import base64

import pytest

import plait
from plait import Audio, Document, Image, UnsupportedInput
from plait.testing import LoopbackServer, Reply

from ._wire import PDF, PNG, Capture


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_url_the_api_needs_as_bytes_is_refused_without_fetch_urls() -> None:
    capture = Capture("chat")
    with pytest.raises(UnsupportedInput, match="fetch_urls=True") as info:
        plait.run(
            ["Summarise", Document.from_url("https://example.com/r.pdf")], model=capture.model()
        )
    assert info.value.part == "document"
    assert capture.bodies == []
    with pytest.raises(UnsupportedInput, match="fetch_urls=True"):
        plait.run(
            ["Listen", Audio.from_url("https://example.com/a.wav")],
            model=capture.model("gpt-4o-audio-preview"),
        )
    assert capture.bodies == []


@pytest.mark.anyio
async def test_plait_never_fetches_a_url_the_api_takes() -> None:
    async with LoopbackServer([Reply.json({})]) as server:
        capture = Capture("anthropic")
        url = f"{server.base_url}/cat.png"
        result = await plait.arun(
            ["What is it?", Image.from_url(url)], model=capture.model(), fetch_urls=True
        )
        assert result.output == "A cat."
        assert server.requests == []  # the provider fetches it, not plait
    assert capture.user_content()[1] == {"type": "image", "source": {"type": "url", "url": url}}


@pytest.mark.anyio
async def test_fetch_urls_downloads_what_the_api_needs_as_bytes() -> None:
    pdf = Reply(200, (("content-type", "application/pdf"),), (PDF,), length=True)
    async with LoopbackServer([pdf]) as server:
        capture = Capture("chat")
        url = f"{server.base_url}/report.pdf"
        result = await plait.arun(
            "Summarise",
            attachments=[Document.from_url(url)],
            model=capture.model(),
            fetch_urls=True,
        )
        assert result.output == "A cat."
        assert [r.path for r in server.requests] == ["/report.pdf"]
    part = capture.user_content()[1]
    assert part["type"] == "file"
    assert (
        part["file"]["file_data"] == "data:application/pdf;base64," + base64.b64encode(PDF).decode()
    )


# Stopping a body at the cap abandons httpx's nested byte generators; trio warns when
# they are garbage collected (the response itself is closed): see tests/http/test_caps.py.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.anyio
async def test_a_fetch_is_bounded_by_the_response_size_limit() -> None:
    big = Reply(200, (("content-type", "application/pdf"),), (PDF * 100,), length=True)
    async with LoopbackServer([big]) as server:
        capture = Capture("chat")
        with pytest.raises(UnsupportedInput, match="larger than"):
            await plait.arun(
                ["Summarise", Document.from_url(f"{server.base_url}/big.pdf")],
                model=capture.model(),
                fetch_urls=True,
                limits=plait.Limits(response_bytes=len(PDF) * 10),
            )
    assert capture.bodies == []


@pytest.mark.anyio
async def test_a_failed_fetch_says_so_before_any_request() -> None:
    async with LoopbackServer([Reply(404, (), (b"no",), length=True)]) as server:
        capture = Capture("chat")
        with pytest.raises(UnsupportedInput, match="HTTP 404"):
            await plait.arun(
                ["Sum", Document.from_url(f"{server.base_url}/x.pdf")],
                model=capture.model(),
                fetch_urls=True,
            )
    assert capture.bodies == []


def test_a_data_url_is_decoded_without_any_network() -> None:
    capture = Capture("anthropic")
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    plait.run(["What is it?", Image(url=data_url)], model=capture.model())
    assert capture.user_content()[1]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": base64.b64encode(PNG).decode(),
    }
