from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.dsl import load_resource
from ampbase.schema.ir import AuthConfig, HandlerDef

ROOT = Path(__file__).resolve().parents[3]

TODO = """\
from ampbase import a, define_data

schema = a.schema({
    "Todo": a.model({"content": a.string()}).authorization(lambda allow: [allow.public_api_key()]),
})
data = define_data(schema=schema, authorization_modes={"default_authorization_mode": "apiKey"})
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_the_data_resource_with_sources_in_the_users_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource.py", TODO)
    schema = load_resource(path)
    (todo,) = schema.models
    assert todo.name == "Todo"
    assert schema.auth.default_mode == "apiKey"
    assert todo.source is not None and (todo.source.file, todo.source.line) == (str(path), 4)
    assert schema.source is not None and schema.source.line == 3


def test_a_module_with_only_a_schema_enables_the_modes_its_rules_need(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource.py", TODO.replace("data = define_data", "_unused = define_data"))
    schema = load_resource(path)
    assert schema.auth == AuthConfig(default_mode="apiKey", modes=("apiKey", "userPool", "iam"), settings={})

    owner_only = TODO.replace("data = define_data", "_unused = define_data").replace(
        "public_api_key", "owner"
    )
    schema = load_resource(_write(tmp_path, "resource.py", owner_only))
    assert schema.auth == AuthConfig(default_mode="userPool", modes=("userPool", "iam"), settings={})


def test_sibling_modules_can_be_imported_and_are_forgotten_afterwards(tmp_path: Path) -> None:
    _write(tmp_path, "handlers_for_loader_test.py", "def echo(event):\n    return event\n")
    _write(tmp_path, "relative_helper.py", "NAME = 'Todo'\n")
    text = (
        "from handlers_for_loader_test import echo\n"
        "from .relative_helper import NAME\n"
        "from ampbase import a, define_data\n"
        "schema = a.schema({\n"
        "    NAME: a.model({'content': a.string()}).authorization(lambda allow: allow.public_api_key()),\n"
        "    'echo': a.query().returns(a.string()).handler(a.handler.function(echo)),\n"
        "})\n"
        "data = define_data(schema=schema)\n"
    )
    path = _write(tmp_path, "resource.py", text)
    before = set(sys.modules)
    path_before = list(sys.path)
    schema = load_resource(path)
    assert schema.models[0].name == "Todo"
    (handler,) = schema.operations[0].handlers
    assert handler == HandlerDef("function", function_name="FnEcho")
    assert handler.callable.__name__ == "echo"
    assert set(sys.modules) - before == set()
    assert sys.path == path_before


def test_loading_twice_runs_the_module_twice(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource.py", TODO)
    assert load_resource(path) == load_resource(path)


def test_a_dsl_error_keeps_the_users_line(tmp_path: Path) -> None:
    text = TODO.replace("a.string()}", 'a.ref("Nope")}')
    path = _write(tmp_path, "resource.py", text)
    with pytest.raises(SchemaDefinitionError) as info:
        load_resource(path)
    assert str(info.value).startswith(f"{path}:4: ")
    assert "unknown type 'Nope'" in info.value.message


def test_any_exception_becomes_a_located_schema_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource.py", TODO.replace('"content": a.string()', '"content": a.text()'))
    with pytest.raises(SchemaDefinitionError) as info:
        load_resource(path)
    assert str(info.value).startswith(f"{path}:4: AttributeError: a.text does not exist")
    assert isinstance(info.value.__cause__, AttributeError)


def test_an_exception_in_a_sibling_module_points_there(tmp_path: Path) -> None:
    helper = _write(tmp_path, "broken_helper_for_loader_test.py", "x = 1\ny = 1 / 0\n")
    path = _write(tmp_path, "resource.py", "import broken_helper_for_loader_test\n")
    with pytest.raises(SchemaDefinitionError) as info:
        load_resource(path)
    assert str(info.value).startswith(f"{helper}:2: ZeroDivisionError")
    assert "broken_helper_for_loader_test" not in sys.modules


def test_a_syntax_error_is_located(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource.py", "from ampbase import a\nschema = a.schema({\n")
    with pytest.raises(SchemaDefinitionError) as info:
        load_resource(path)
    assert info.value.source is not None and info.value.source.file == str(path)
    assert info.value.message.startswith("SyntaxError")


def test_a_module_without_data_or_schema_is_explained(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource.py", "x = 1\n")
    with pytest.raises(SchemaDefinitionError) as info:
        load_resource(path)
    assert info.value.hint is not None and "define_data" in info.value.hint


def test_a_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SchemaDefinitionError, match="Schema file not found"):
        load_resource(tmp_path / "nope.py")


def test_the_example_app_schema_is_the_seed_todo() -> None:
    schema = load_resource(ROOT / "examples" / "todo" / "amplify" / "data" / "resource.py")
    (todo,) = schema.models
    assert [(f.name, f.type.to_sdl()) for f in todo.fields] == [("content", "String"), ("isDone", "Boolean")]
    assert [(r.allow.value, r.provider) for r in todo.auth_rules] == [("public", "apiKey")]
    assert schema.auth.default_mode == "apiKey"
    assert schema.auth.settings == {"api_key_authorization_mode": {"expires_in_days": 30}}


def test_an_edited_file_is_reloaded_even_with_the_same_size(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource.py", TODO)
    assert load_resource(path).models[0].fields[0].name == "content"
    _write(tmp_path, "resource.py", TODO.replace('"content"', '"contENT"'))
    assert load_resource(path).models[0].fields[0].name == "contENT"
    assert not (tmp_path / "__pycache__").exists()
