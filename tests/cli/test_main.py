"""``ampbase schema ...`` and argument handling (in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ampbase.cli.main import build_parser, main

SCHEMA = Path(__file__).parents[1] / "interop" / "schema.graphql"


def test_schema_print_writes_the_generated_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "print", str(SCHEMA)]) == 0
    out = capsys.readouterr().out
    assert "type Todo" in out
    assert "input ModelTodoFilterInput" in out
    assert "listCustomerByAccountRepresentativeIdAndName" in out


def test_schema_introspection_writes_model_introspection_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "introspection", str(SCHEMA)]) == 0
    introspection = json.loads(capsys.readouterr().out)
    assert introspection["version"] == 1
    assert introspection["models"]["Product"]["primaryKeyInfo"]["sortKeyFieldNames"] == ["region"]


def test_invalid_schema_prints_the_error_without_a_traceback_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.graphql"
    bad.write_text("type Todo @model {\n  title: Nope\n}\n")
    assert main(["schema", "print", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Nope" in err
    assert f"{bad}:2" in err
    assert "Traceback" not in err


def test_missing_schema_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "print", str(tmp_path / "nope.py")]) == 2
    assert "not found" in capsys.readouterr().err


def test_sandbox_defaults() -> None:
    args = build_parser().parse_args(["sandbox"])
    assert args.schema == Path("amplify/data/resource.py")
    assert (args.port, args.host) == (4443, "127.0.0.1")
    assert args.outputs == Path("amplify_outputs.json")
    assert args.db == Path(".ampbase/sandbox.db")


def test_serve_needs_a_schema(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["serve"])
    assert info.value.code == 2


def test_serve_refuses_half_a_tls_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["serve", str(SCHEMA), "--tls-cert", str(tmp_path / "c.pem"), "--database-url", "sqlite:///x.db"]
    )
    assert code == 2
    assert "--tls-key" in capsys.readouterr().err
