"""The README's Python example, run as written, N times in fresh processes (issue 9).

    python tests/bench/bench_readme.py [--runs 20] [--seeds 0] [--json]

Each run is a new ``python -c <the README's code block>`` in an empty folder, with no
``PLAIT_*`` or ``OPENAI_*`` variable, so it gets what a newcomer gets: the embedded
default model with its default settings. A run is *correct* when it exits 0, prints
``success`` and its ``Forecast`` names Paris with a sunny sky (what ``get_weather``
said); a validated but wrong answer (``city='success'``) is a success, not a correct one.

``--seeds 0`` (the default) leaves the configuration alone: on one machine every run
is then the same run, since plait-local seeds its sampler. ``--seeds K`` (K > 0) writes
``[plugin.local] seed = i`` for run i, cycling through K seeds: different seeds give
different tokens, as a different CPU does, so this is the figure that tells whether the
example holds on any machine rather than on this one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
_FORECAST = re.compile(r"^success city='(?P<city>[^']*)' sky='(?P<sky>[^']*)'$")


@dataclass
class Outcome:
    seed: int | None
    exit_code: int
    status: str
    output: str
    correct: bool
    seconds: float


def readme_code() -> str:
    """The README's (only) Python code block."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    if len(blocks) != 1:
        raise SystemExit(f"expected one Python block in README.md, found {len(blocks)}")
    return str(blocks[0])


def is_correct(stdout: str) -> bool:
    """The printed result is a success naming Paris with a sunny sky."""
    lines = stdout.strip().splitlines()
    match = _FORECAST.match(lines[-1]) if lines else None
    return bool(match and "paris" in match["city"].lower() and match["sky"] == "sunny")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "OPENAI_"))}


def run_once(code: str, seed: int | None, timeout: float = 600) -> Outcome:
    """One fresh process running ``code``; ``seed`` (if not None) set by configuration."""
    with tempfile.TemporaryDirectory() as folder:
        if seed is not None:
            Path(folder, "plait.toml").write_text(f"[plugin.local]\nseed = {seed}\n")
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=_env(),
            cwd=folder,
            timeout=timeout,
            check=False,
        )
        seconds = time.perf_counter() - start
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    status, _, output = last.partition(" ")
    if proc.returncode != 0:
        status, output = "error", (proc.stderr.strip().splitlines() or [""])[-1]
    return Outcome(seed, proc.returncode, status, output, is_correct(proc.stdout), seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=0, help="cycle through K seeds (0: none)")
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    args = parser.parse_args(argv)
    code = readme_code()
    outcomes = []
    for i in range(args.runs):
        seed = i % args.seeds if args.seeds else None
        outcome = run_once(code, seed)
        outcomes.append(outcome)
        if args.json:
            print(json.dumps(asdict(outcome)), flush=True)
        else:
            mark = "✓" if outcome.correct else "✗"
            print(
                f"{mark} run {i + 1:2d} seed={seed} {outcome.seconds:5.1f}s "
                f"{outcome.status} {outcome.output}",
                flush=True,
            )
    successes = sum(o.status == "success" for o in outcomes)
    correct = sum(o.correct for o in outcomes)
    median = statistics.median(o.seconds for o in outcomes)
    print(
        f"runs: {len(outcomes)}, successes: {successes}, correct: {correct}, "
        f"median time: {median:.1f}s",
        flush=True,
    )
    return 0 if correct == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
