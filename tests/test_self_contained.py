"""The repository holds every file its tests read: nothing outside the clone is needed."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAFFIC = ROOT / "tests" / "data" / "provider-traffic"

# Counts stated by the recordings' README (one JSON file per recording).
EXPECTED = {
    "openai-chat": 210,
    "openai-responses": 88,
    "anthropic-messages": 111,
    "google-gemini": 102,
    "bedrock-converse": 79,
}


def test_recorded_provider_traffic_is_in_the_repository() -> None:
    readme = (TRAFFIC / "README.md").read_text()
    assert "MIT License" in readme  # the source and licence travel with the data
    for api, count in EXPECTED.items():
        files = sorted((TRAFFIC / api).glob("*.json"))
        assert len(files) == count, api
        assert json.loads(files[0].read_text())["api"] == api


def test_no_test_reads_outside_the_repository() -> None:
    pattern = re.compile(r"parents\[\d\]\.parent|\.\./shared|/ *\"shared\"")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (ROOT / "tests", ROOT / "plugins")
        for path in folder.rglob("*.py")
        if path != Path(__file__).resolve() and pattern.search(path.read_text())
    ]
    assert offenders == []
