"""docs/providers.md stays in step with the code: every option and error is documented."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import plait
from plait_openai.options import Options

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_every_option_is_documented() -> None:
    text = (DOCS / "providers.md").read_text()
    for field in fields(Options):
        assert f"`{field.name}`" in text, field.name
    assert "`api_key_env`" in text


def test_every_provider_error_is_in_the_table() -> None:
    text = (DOCS / "providers.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)", text, flags=re.M))
    errors = {
        name
        for name in plait.__all__
        if isinstance(getattr(plait, name), type)
        and issubclass(getattr(plait, name), plait.ProviderError)
    }
    assert errors - {"ProviderError"} <= documented


def test_plugin_guide_names_the_real_helpers() -> None:
    text = (DOCS / "plugins" / "providers.md").read_text()
    import plait.provider
    import plait.testing

    for name in (
        "ClientPool",
        "error_from_response",
        "error_from_payload",
        "map_transport_error",
        "aiter_sse",
    ):
        assert name in text
        assert name in plait.provider.__all__
    for name in ("ProviderConformance", "CONFORMANCE_KEY", "WireAdapter"):
        assert name in text
        assert name in plait.testing.__all__
