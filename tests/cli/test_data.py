"""``ampbase seed``, ``ampbase export`` and ``ampbase import`` against a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ampbase.cli.main import main

RESOURCE = """
from ampbase import a, define_data

schema = a.schema({
    "Todo": a.model({"content": a.string(), "done": a.boolean(), "tags": a.string().array()})
    .authorization(lambda allow: [allow.owner()]),
})
data = define_data(schema=schema)
"""
SEED = """
async def seed(client):
    for i in range(3):
        result = await client.models.Todo.create(content=f"todo {i}", done=i == 1, tags=["a", str(i)])
        assert result.errors is None, result.errors
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "resource.py").write_text(RESOURCE)
    (tmp_path / "seed.py").write_text(SEED)
    return tmp_path


def args(project: Path, db: str = "app.db") -> list[str]:
    return ["--schema", str(project / "resource.py"), "--db", str(project / db)]


def export(project: Path, capsys: pytest.CaptureFixture[str], db: str = "app.db") -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["export", "Todo", *args(project, db)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_seed_runs_the_script_with_a_trusted_client(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # owner-only model: the seed client is trusted, so it may create without an owner
    assert main(["seed", str(project / "seed.py"), *args(project)]) == 0
    items = export(project, capsys)
    assert sorted(i["content"] for i in items) == ["todo 0", "todo 1", "todo 2"]
    assert all(i["id"] and i["createdAt"] and i["updatedAt"] for i in items)


def test_export_then_import_round_trips_every_attribute(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", str(project / "seed.py"), *args(project)]) == 0
    items = export(project, capsys)
    dump = project / "todo.jsonl"
    dump.write_text("".join(json.dumps(i) + "\n" for i in items))
    assert main(["import", "Todo", str(dump), *args(project, "copy.db")]) == 0
    assert "imported 3 Todo" in capsys.readouterr().err
    assert export(project, capsys, "copy.db") == items


def test_import_refuses_duplicates_unless_upsert(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dump = project / "todo.jsonl"
    dump.write_text('{"id": "t1", "content": "first", "done": true}\n\n')
    assert main(["import", "Todo", str(dump), *args(project)]) == 0
    dump.write_text('{"id": "t1", "content": "second"}\n')
    assert main(["import", "Todo", str(dump), *args(project)]) == 2
    assert "already exists (use --upsert" in capsys.readouterr().err
    assert main(["import", "Todo", str(dump), "--upsert", *args(project)]) == 0
    (item,) = export(project, capsys)
    assert (item["content"], item.get("done")) == ("second", None)  # replaced, not merged


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", ":1: not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"content": "no id"}', "key field(s) id are missing"),
        ('{"id": "x", "colour": "red"}', "Todo has no field(s) colour"),
    ],
)
def test_bad_lines_name_the_file_and_line(
    project: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    dump = project / "bad.jsonl"
    dump.write_text(line + "\n")
    assert main(["import", "Todo", str(dump), *args(project)]) == 2
    assert message in capsys.readouterr().err


def test_unknown_model_missing_database_and_bad_seed_script(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "Todo", *args(project, "missing.db")]) == 2
    assert "no database at" in capsys.readouterr().err
    assert main(["seed", str(project / "seed.py"), *args(project)]) == 0
    assert main(["export", "Nope", *args(project)]) == 2
    assert "the schema has no model 'Nope'" in capsys.readouterr().err
    (project / "empty.py").write_text("x = 1\n")
    assert main(["seed", str(project / "empty.py"), *args(project)]) == 2
    assert "defines no seed(client)" in capsys.readouterr().err
