"""Instructions per plain run, counted by valgrind's callgrind (deterministic under load).

    python tests/bench/bench_instructions.py            # needs valgrind on PATH
    python tests/bench/bench_instructions.py --src OTHER/core/src   # another checkout

Runs N plain one-turn runs (``plait.arun`` + ``ScriptedModel(["done"])``, one tool
offered, a kernel with no plugins) in one process under callgrind for N = 100 and 400;
the figure is the slope, (I(400) - I(100)) / 300, so start-up cancels out.
``PYTHONHASHSEED=0``; the same code still varies by about ±0.4 % between runs.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = """
import sys
import anyio
import plait
from plait.testing import ScriptedModel


async def add(a: int, b: int) -> int:
    \"\"\"Add.\"\"\"
    return a + b


async def main() -> None:
    tool = plait.tool(add)
    kernel = plait.Kernel(entry_points=())
    for _ in range(int(sys.argv[1])):
        await plait.arun("hi", model=ScriptedModel(["done"]), tools=[tool], kernel=kernel)


anyio.run(main)
"""


def instructions(script: Path, runs: int, src: str | None) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             sys.executable, str(script), str(runs)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found, done.stderr
    return int(found[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="a core/src folder to measure instead of the installed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "runs.py"
        script.write_text(RUNS)
        low, high = (instructions(script, n, args.src) for n in (100, 400))
    print(f"instructions per plain run: {(high - low) / 300 / 1000:.1f} K")


if __name__ == "__main__":
    main()
