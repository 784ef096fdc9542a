"""Python functions for custom operations declared by name (``ampbase.schema.handlers``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ampbase import a, define_data
from ampbase.errors import SchemaDefinitionError
from ampbase.schema.handlers import bind_handlers, handler_keys, unserved_operations
from ampbase.schema.ir import OperationKind, SchemaDef
from ampbase.schema.loader import load_schema

ORACLE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle"
SDL = (ORACLE / "custom-operations" / "input.graphql").read_text()


def echo(event: dict[str, Any]) -> Any:
    return {"message": event["arguments"]["msg"]}


def count(event: dict[str, Any]) -> int:
    return 3


def op_handlers(schema: SchemaDef, name: str) -> list[Any]:
    op = next(o for o in schema.operations if o.name == name)
    return [h.callable for h in op.handlers]


def write_project(folder: Path, handlers: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    schema = folder / "schema.graphql"
    schema.write_text(SDL)
    if handlers is not None:
        (folder / "handlers.py").write_text(handlers)
    return schema


def test_keys_are_the_function_name_then_without_env_then_the_operation() -> None:
    schema = load_schema(ORACLE / "custom-operations" / "input.graphql", warn=lambda _: None)
    op = next(o for o in schema.operations if o.name == "echo")
    assert handler_keys(op, op.handlers[0]) == ("echofunction-${env}", "echofunction", "echo")


def test_bind_attaches_callables_by_function_name_or_operation_name() -> None:
    schema = load_schema(ORACLE / "custom-operations" / "input.graphql", warn=lambda _: None)
    bound, used = bind_handlers(schema, {"echofunction": echo, "todoCount": count, "unknown": count})
    assert op_handlers(bound, "echo") == [echo]
    assert op_handlers(bound, "todoCount") == [count]  # @function(name: "counter") served by the op name
    assert op_handlers(bound, "doSomething") == [None]
    assert used == {"echofunction", "todoCount"}
    assert [w.split(" ")[0] for w in unserved_operations(bound)] == ["Mutation.doSomething"]
    assert 'handlers = {"doer": fn}' in unserved_operations(bound)[0]


def test_a_handler_registered_by_operation_name_serves_an_operation_without_resolver() -> None:
    from ampbase.schema.sdl import load_sdl

    declared = load_sdl("type Query { ping: String }", filename="ping.graphql")
    bound, used = bind_handlers(declared, {"ping": lambda event: "pong"})
    (op,) = bound.operations
    assert op.kind is OperationKind.QUERY and op.handlers[0].kind == "python" and used == {"ping"}


def test_handlers_py_next_to_an_sdl_schema_is_picked_up(tmp_path: Path) -> None:
    schema_file = write_project(
        tmp_path,
        "def echo(event):\n    return {'message': event['arguments']['msg']}\n"
        "handlers = {'echofunction': echo, 'counter': lambda event: 1, 'doer': lambda event: None}\n",
    )
    warnings: list[str] = []
    schema = load_schema(schema_file, warn=warnings.append)
    assert all(
        h is not None for name in ("echo", "todoCount", "doSomething") for h in op_handlers(schema, name)
    )
    assert warnings == []


def test_handlers_flag_file_and_warnings_for_unused_and_unserved(tmp_path: Path) -> None:
    schema_file = write_project(tmp_path / "api", None)
    extra = tmp_path / "functions" / "mine.py"
    extra.parent.mkdir()
    extra.write_text("handlers = {'counter': lambda event: 1, 'typo': lambda event: 2}\n")
    warnings: list[str] = []
    schema = load_schema(schema_file, warn=warnings.append, handlers=extra)
    assert op_handlers(schema, "todoCount")[0] is not None
    assert any("'typo'" in w for w in warnings)
    assert sum("has no Python handler" in w for w in warnings) == 2  # echo, doSomething


def test_handlers_file_without_mapping_is_a_definition_error(tmp_path: Path) -> None:
    schema_file = write_project(tmp_path, "def echo(event):\n    return None\n")
    with pytest.raises(SchemaDefinitionError, match="defines no `handlers` mapping") as info:
        load_schema(schema_file)
    assert info.value.source is not None and info.value.source.file.endswith("handlers.py")


def test_define_data_handlers_bind_named_dsl_functions() -> None:
    schema = a.schema(
        {
            "echo": a.query()
            .arguments({"msg": a.string()})
            .returns(a.string())
            .authorization(lambda allow: [allow.public_api_key()])
            .handler(a.handler.function("echo-fn")),
        }
    )
    data = define_data(schema=schema, handlers={"echo-fn": echo})
    assert op_handlers(data.schema, "echo") == [echo]
    with pytest.raises(SchemaDefinitionError, match="no operation or function is named 'nope'"):
        define_data(schema=schema, handlers={"nope": echo})
    with pytest.raises(SchemaDefinitionError, match="must map a function name to a callable"):
        define_data(schema=schema, handlers={"echo-fn": "not callable"})


def test_define_data_handlers_work_for_an_sdl_string() -> None:
    data = define_data(
        schema='type Query { ping: String @function(name: "pinger-${env}") @auth(rules: [{allow: public}]) }',
        authorization_modes={"default_authorization_mode": "apiKey"},
        handlers={"pinger": count},
    )
    assert op_handlers(data.schema, "ping") == [count]


def test_ampbase_handlers_environment_variable_names_the_extra_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema_file = write_project(tmp_path / "api", None)
    extra = tmp_path / "mine.py"
    extra.write_text("handlers = {'doer': lambda event: None}\n")
    monkeypatch.setenv("AMPBASE_HANDLERS", str(extra))
    schema = load_schema(schema_file, warn=lambda _: None)
    assert op_handlers(schema, "doSomething")[0] is not None


def test_serve_and_sandbox_handlers_flag_sets_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ampbase.cli import main as cli

    monkeypatch.setenv("AMPBASE_HANDLERS", "")  # restored (removed) after the test
    monkeypatch.delenv("AMPBASE_HANDLERS")
    seen: list[str | None] = []

    def fake_schema(action: str, path: Path) -> int:
        import os

        seen.append(os.environ.get("AMPBASE_HANDLERS"))
        return 0

    args = cli.build_parser().parse_args(["serve", "s.graphql", "--handlers", str(tmp_path / "h.py")])
    assert args.handlers == tmp_path / "h.py"
    assert cli.build_parser().parse_args(["sandbox", "--handlers", "h.py"]).handlers == Path("h.py")
    monkeypatch.setattr("ampbase.cli.schema.run_schema", fake_schema)
    args.command, args.schema_command = "schema", "print"
    assert cli._dispatch(args) == 0
    assert seen == [str((tmp_path / "h.py").resolve())]
