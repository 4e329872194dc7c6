"""``import plait`` loads no entry point, imports neither httpx nor any plugin, reads no
``.env`` and starts no thread — and touching every public name keeps it that way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = r"""
import json, os, sys, threading
threads = threading.active_count()
import plait
after_import = {
    "httpx": "httpx" in sys.modules,
    "plugins": sorted(m for m in sys.modules if m.startswith("plait_")),
    "loader": "plait._loader" in sys.modules or "importlib.metadata" in sys.modules,
    "threads": threading.active_count() - threads,
    "dotenv": "FROM_DOTENV" in os.environ,
}
for name in plait.__all__:
    getattr(plait, name)
after_names = {
    "httpx": "httpx" in sys.modules,
    "plugins": sorted(m for m in sys.modules if m.startswith("plait_")),
    "threads": threading.active_count() - threads,
}
print(json.dumps({"import": after_import, "names": after_names}))
"""


def test_import_has_no_side_effects(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FROM_DOTENV=1\n")
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(out.stdout)
    assert report["import"] == {
        "httpx": False,
        "plugins": [],
        "loader": False,
        "threads": 0,
        "dotenv": False,
    }
    assert report["names"] == {"httpx": False, "plugins": [], "threads": 0}
