"""``ampbase keys create|list|delete`` against a SQLite file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ampbase.cli.main import main


def test_create_list_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "keys.db"
    assert main(["keys", "create", "--db", str(db), "--days", "3", "--description", "ci key"]) == 0
    key = capsys.readouterr().out.strip()
    assert re.fullmatch(r"da2-[a-z0-9]{26}", key)

    assert main(["keys", "list", "--database-url", f"sqlite:///{db}"]) == 0
    listed = capsys.readouterr().out
    assert key in listed
    assert "valid" in listed
    assert "ci key" in listed

    assert main(["keys", "delete", "--db", str(db), key]) == 0
    capsys.readouterr()
    assert main(["keys", "list", "--db", str(db)]) == 0
    assert key not in capsys.readouterr().out


def test_deleting_an_unknown_key_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "keys.db"
    assert main(["keys", "create", "--db", str(db)]) == 0
    assert main(["keys", "delete", "--db", str(db), "da2-nothere"]) == 1
    assert "no API key" in capsys.readouterr().err


def test_listing_a_missing_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "list", "--db", str(tmp_path / "absent.db")]) == 2
    assert "no database" in capsys.readouterr().err
