"""Profile ``ampbase serve`` under load with py-spy (sampling, from outside the process).

For each workload: wrk runs against the server while ``py-spy record --nonblocking`` samples it;
the collapsed stacks are written to ``OUT/profile-<workload>.txt`` (open them with any flame
graph viewer) and summarised as the functions with the most samples, *self* (on top of the
stack: where the CPU goes) and *inclusive* (anywhere on the stack: which call paths cost).

Needs py-spy (``.venv/bin/pip install py-spy``; not a project dependency) and ptrace rights.
Used by ``run.py --profile``; standalone against a running server:

    .venv/bin/python bench/profile_ampbase.py --pid PID --url http://127.0.0.1:PORT/graphql \\
        --api-key da2-... --bodies /tmp/ampbase-bench/.../get.bodies --seconds 15
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from common import VENV_BIN, Target, run_wrk

__all__ = ["profile_run", "profile_workloads", "py_spy_command", "summarize_collapsed"]

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _py_spy() -> str:
    found = VENV_BIN / "py-spy"
    if found.exists():
        return str(found)
    path = shutil.which("py-spy")
    if path is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    return path


def _short(frame: str) -> str:
    """``func (path/to/ampbase/engine/x.py:12)`` → ``func (ampbase/engine/x.py)``."""
    m = _FRAME.match(frame)
    if not m:
        return frame
    file = m.group("file")
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{m.group('func')} ({file})"


def summarize_collapsed(path: Path, top: int = 25) -> str:
    """Top self and inclusive functions of a py-spy ``--format raw`` file, as text."""
    self_counts: collections.Counter[str] = collections.Counter()
    incl_counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";") if not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        self_counts[frames[-1]] += count
        for f in set(frames):
            incl_counts[f] += count
    if total == 0:
        return "no samples"
    out = [f"{total} samples", "", "self (top of stack):"]
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in self_counts.most_common(top)]
    out += ["", "inclusive (anywhere on the stack):"]
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in incl_counts.most_common(top)]
    return "\n".join(out)


def py_spy_command(pid: int, raw: Path) -> list[str]:
    """``py-spy record`` of ``pid`` into ``raw`` (collapsed stacks), 200 Hz, without pausing it."""
    return [
        _py_spy(),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "200",
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(raw),
    ]


def profile_run(
    target: Target, bodies: Path, out: Path, *, seconds: float, concurrency: int, gil: bool = True
) -> str:
    """Load ``target`` with wrk for ``seconds`` while py-spy samples its first pid.

    ``gil``: sample only the thread holding the GIL (where Python CPU goes); otherwise every
    non-idle thread, which also shows time spent waiting to get the GIL back (e.g. in a socket
    ``write`` right after a worker thread took it)."""
    raw = out.with_suffix(".txt")
    argv = [*py_spy_command(target.pids[0], raw), "--duration", f"{int(seconds)}"]
    if gil:
        argv.append("--gil")
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    result: dict[str, Any] = {}

    def load() -> None:
        result["wrk"] = run_wrk(target, bodies, seconds=seconds + 1, concurrency=concurrency)

    worker = threading.Thread(target=load)
    worker.start()
    worker.join(timeout=seconds + 60)
    try:
        _, err = spy.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.communicate(timeout=10)
        raise RuntimeError("py-spy did not finish") from None
    if spy.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed: {err.decode()[-1000:]}")
    wrk = result.get("wrk")
    head = f"under py-spy: {wrk.rps:,.0f} req/s, p99 {wrk.p99_ms:.1f} ms\n" if wrk else ""
    return head + summarize_collapsed(raw)


def profile_workloads(
    target: Target, body_files: dict[str, Path], out: Path, args: argparse.Namespace
) -> None:
    for name, bodies in body_files.items():
        for gil in (True, False):
            label = f"profile-{name}" + ("" if gil else "-threads")
            text = profile_run(
                target,
                bodies,
                out / label,
                seconds=max(args.seconds, 10),
                concurrency=args.concurrency,
                gil=gil,
            )
            (out / f"{label}.summary.txt").write_text(text + "\n")
            view = "the GIL holder" if gil else "every active thread"
            print(f"\n== py-spy profile of ampbase ({view}), workload {name} ==\n{text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("/tmp/ampbase-profile"))
    parser.add_argument("--summarize", type=Path, default=None, help="only summarise an existing raw file")
    parser.add_argument(
        "--threads", action="store_true", help="sample every active thread, not the GIL holder"
    )
    args = parser.parse_args()
    if args.summarize:
        print(summarize_collapsed(args.summarize))
        return 0
    if not args.url.startswith("http://127.0.0.1:"):
        parser.error("only loopback URLs (http://127.0.0.1:PORT/graphql)")
    target = Target("ampbase", args.url, args.api_key, (args.pid,))
    print(
        profile_run(
            target,
            args.bodies,
            args.out,
            seconds=args.seconds,
            concurrency=args.concurrency,
            gil=not args.threads,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
