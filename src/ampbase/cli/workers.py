"""``ampbase serve --workers N``: N server processes sharing one listening socket.

The parent process (the supervisor) loads the schema, starts the runtime once
(migrating the database, creating the first API key, writing
amplify_outputs.json) and stops it again, binds ``host:port``, then starts N
worker processes (``python -m ampbase.cli.workers``) that inherit the socket;
the kernel spreads connections over them. Each worker has its own engine,
database pool and pub/sub connection, so a pub/sub every process shares
(``--pubsub-url``) is required: settings validation refuses ``--workers > 1``
with the in-process one.

SIGINT/SIGTERM to the supervisor stop every worker (SIGTERM, then SIGKILL after
``STOP_GRACE`` seconds). A worker that exits on its own is restarted, with a
growing delay if it keeps failing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ampbase.cli.output import echo
from ampbase.errors import ConfigError
from ampbase.server.settings import Settings

__all__ = ["main", "run_workers"]

logger = logging.getLogger("ampbase.server")

ENV_SETTINGS = "AMPBASE_WORKER_SETTINGS"
ENV_FD = "AMPBASE_WORKER_FD"
STOP_GRACE = 10.0
_MAX_RESTART_DELAY = 10.0


def _bind(settings: Settings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"could not listen on {settings.host}:{settings.port}: {exc}") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def _prepare(schema_path: Path, settings: Settings) -> None:
    """Start the runtime once: migrations, the first API key, amplify_outputs.json."""
    from ampbase.cli.serve import api_key_for_outputs, outputs_region
    from ampbase.schema.loader import load_schema
    from ampbase.server.outputs import write_outputs
    from ampbase.server.wiring import Runtime

    schema = load_schema(schema_path)
    runtime = Runtime(schema, settings)
    await runtime.start()
    try:
        api_key = await api_key_for_outputs(runtime, schema, create=settings.outputs is not None)
        if settings.outputs is not None:
            region = outputs_region(runtime)
            write_outputs(settings.outputs, schema, url=settings.url, api_key=api_key, region=region)
    finally:
        await runtime.stop()


async def run_workers(schema_path: Path, settings: Settings) -> int:
    if settings.allow_plain_http:
        raise ConfigError("--allow-plain-http serves one process only; use --workers 1 or drop it")
    await _prepare(schema_path, settings)
    sock = _bind(settings)
    env = dict(os.environ)
    env[ENV_SETTINGS] = base64.b64encode(pickle.dumps(settings)).decode()
    env[ENV_FD] = str(sock.fileno())
    command = [sys.executable, "-m", "ampbase.cli.workers", str(schema_path)]

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, env=env, pass_fds=(sock.fileno(),))

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    workers = [spawn() for _ in range(settings.workers)]
    echo(f"ampbase serving {schema_path} at {settings.url} with {settings.workers} workers")
    if settings.outputs is not None:
        echo(f"  wrote {settings.outputs}")
    delays = [1.0] * len(workers)
    try:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await stopping.wait()
            if stopping.is_set():
                break
            for i, proc in enumerate(workers):
                code = proc.poll()
                if code is None:
                    continue
                echo(f"worker {proc.pid} exited with status {code}; restarting in {delays[i]:.0f}s", err=True)
                await asyncio.sleep(delays[i])
                delays[i] = min(delays[i] * 2, _MAX_RESTART_DELAY)
                if not stopping.is_set():
                    workers[i] = spawn()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await _stop_all(workers)
        sock.close()
    return 0


async def _stop_all(workers: list[subprocess.Popen[bytes]]) -> None:
    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for proc in workers:
        try:
            await asyncio.to_thread(proc.wait, max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait)


async def _serve_worker(schema_path: Path, settings: Settings, sock: socket.socket) -> None:
    from ampbase.schema.loader import load_schema
    from ampbase.server.app import create_app
    from ampbase.server.run import serve_app
    from ampbase.server.wiring import Runtime

    runtime = Runtime(load_schema(schema_path), settings)
    await runtime.start()
    try:
        await serve_app(create_app(runtime), settings, sockets=[sock])
    finally:
        await runtime.stop()


def main() -> int:
    """A worker process (started by :func:`run_workers`, not by hand)."""
    raw = os.environ.get(ENV_SETTINGS)
    fd = os.environ.get(ENV_FD)
    if raw is None or fd is None or len(sys.argv) != 2:
        echo("ampbase.cli.workers is started by `ampbase serve --workers N`", err=True)
        return 2
    settings = pickle.loads(base64.b64decode(raw))
    if not isinstance(settings, Settings):
        return 2
    sock = socket.socket(fileno=int(fd))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from ampbase.cli.main import run_server_loop

    run_server_loop(_serve_worker(Path(sys.argv[1]), settings, sock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
