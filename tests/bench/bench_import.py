"""Import cost: fresh interpreters, several runs each, medians.

    python tests/bench/bench_import.py [--runs 15] [--json]

Measures, in each fresh interpreter, the time to ``import pydantic`` and ``import plait``
(plait's ``__init__`` is lazy, so also ``import plait`` followed by touching every public
name, which loads pydantic and defines plait's models — compare that with pydantic plus
one model, since the first model definition pays pydantic's deferred imports), and the
wall time of ``plait --help`` as a user types it. Interleaved, so machine load hits every
case alike.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TIMED = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
CASES = {
    "import pydantic": "import pydantic",
    "import pydantic + one model": (
        "import pydantic; exec('class M(pydantic.BaseModel):\\n    x: int')"
    ),
    "import plait": "import plait",
    "import plait + public API": "import plait; [getattr(plait, n) for n in plait.__all__]",
}


def _in_process(stmt: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", TIMED.format(stmt=stmt)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def _help_wall() -> float:
    script = shutil.which("plait", path=str(Path(sys.executable).parent)) or "plait"
    start = time.perf_counter()
    subprocess.run([script, "--help"], capture_output=True, check=True)
    return time.perf_counter() - start


def measure(runs: int) -> dict[str, float]:
    """Median seconds per case over ``runs`` interleaved fresh interpreters."""
    samples: dict[str, list[float]] = {name: [] for name in [*CASES, "plait --help (wall)"]}
    for _ in range(runs):
        for name, stmt in CASES.items():
            samples[name].append(_in_process(stmt))
        samples["plait --help (wall)"].append(_help_wall())
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    medians = measure(args.runs)
    if args.json:
        print(json.dumps(medians))
    else:
        base = medians["import pydantic"]
        for name, value in medians.items():
            print(f"{name:28s} {value * 1000:8.1f} ms   {value / base:5.2f}x import pydantic")
    return medians


if __name__ == "__main__":
    main()
