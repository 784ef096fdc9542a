"""``ampbase codegen python``: the generated module type-checks, flags misuse, and works at runtime."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ampbase.client.codegen import generate_module, load_schema_introspection, main
from tests.client.app import REPO, SCHEMA, ServedApp
from tests.client.conftest import FIXTURES

TYPED_APP = FIXTURES / "typed_app.py"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("codegen")
    assert main(["python", str(SCHEMA), "-o", str(out / "amplify_data.py")]) == 0
    (out / "typed_app.py").write_text(TYPED_APP.read_text())
    return out


def mypy(directory: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(directory / ".mypy"),
            *files,
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        env={"MYPYPATH": str(directory), "PATH": "/usr/bin:/bin"},
        timeout=240,
    )


def test_mypy_reports_exactly_the_deliberate_error(generated: Path) -> None:
    result = mypy(generated, "amplify_data.py", "typed_app.py")
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    marked = next(
        i for i, line in enumerate(TYPED_APP.read_text().splitlines(), 1) if "# DELIBERATE ERROR" in line
    )
    assert len(errors) == 1, result.stdout
    assert errors[0].startswith(f"typed_app.py:{marked}:")
    assert "create" in errors[0]


def test_misuse_is_flagged(generated: Path) -> None:
    (generated / "misuse.py").write_text(
        "from amplify_data import generate_client\n"
        "async def f() -> None:\n"
        "    c = generate_client('amplify_outputs.json')\n"
        "    await c.models.Todo.create(bogus='x')\n"  # 4: unknown field
        "    t = (await c.models.Todo.get(id='x')).data\n"
        "    assert t is not None\n"
        "    t['bogus']\n"  # 7: unknown key
        "    await c.models.Todo.create(priority='URGENT')\n"  # 8: not an enum value
        "    await c.models.Todo.list(filter={'content': {'startsWith': 'x'}})\n"  # 9: unknown operator
        "    await c.queries.echo()\n"  # 10: missing required argument
        "    await c.models.Team.get()\n"  # 11: missing key
    )
    result = mypy(generated, "misuse.py")
    lines = {int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line}
    assert lines == {4, 7, 8, 9, 10, 11}, result.stdout


def test_generated_client_runs(generated: Path, server: ServedApp) -> None:
    sys.path.insert(0, str(generated))
    try:
        app = _load(generated / "typed_app.py", "typed_app")
        generated_module = _load(generated / "amplify_data.py", "amplify_data")

        async def run() -> dict[str, Any]:
            client = generated_module.generate_client(str(server.outputs), verify=str(server.ca))
            try:
                result: dict[str, Any] = await app.run(client)
                return result
            finally:
                await client.close()

        result = asyncio.run(run())
        with generated_module.generate_sync_client(str(server.outputs), verify=str(server.ca)) as sync:
            sync_result = app.run_sync(sync)
    finally:
        sys.path.remove(str(generated))
        sys.modules.pop("amplify_data", None)
    assert result["content"] == "typed todo" and result["done"] is True
    assert result["names"] == ["Ty"] and result["echo"] == "echo: typed"
    assert sync_result == {"content": "typed sync", "names": ["Sync"]}


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_outputs_json_and_disabled_operations(tmp_path: Path) -> None:
    mis = load_schema_introspection(FIXTURES / "model-introspection-auth.json")
    source = generate_module(mis)
    audit = source.split("class AuditLogModel(Protocol):")[1].split("\nclass ")[0]
    assert "def update(" in audit and "def delete(" not in audit and "def on_create(" not in audit
    assert "def observe_query(" in audit
    compile(source, "amplify_data.py", "exec")
    assert (REPO / "src" / "ampbase" / "client" / "codegen.py").exists()


def test_bad_schema_path_exits_with_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["python", str(tmp_path / "missing.py"), "-o", str(tmp_path / "out.py")]) == 2
    assert "ampbase codegen:" in capsys.readouterr().err


def test_ampbase_codegen_cli(tmp_path: Path) -> None:
    from ampbase.cli.main import main as cli

    target = tmp_path / "pkg" / "amplify_data.py"
    assert cli(["codegen", "python", str(SCHEMA), "-o", str(target)]) == 0
    assert "class TodoModel(Protocol):" in target.read_text()
