"""Settings from flags and AMPBASE_* environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from ampbase.errors import ConfigError
from ampbase.server.settings import Settings, sqlite_path, state_dir_for


def test_environment_fills_settings_and_flags_win() -> None:
    env = {
        "AMPBASE_DATABASE_URL": "sqlite:///data/app.db",
        "AMPBASE_PORT": "8443",
        "AMPBASE_HOST": "0.0.0.0",
        "AMPBASE_MAX_BODY_BYTES": "2048",
        "AMPBASE_DEBUG": "true",
        "AMPBASE_SECRET": "s3cret",
        "UNRELATED": "x",
    }
    settings = Settings.from_env(env).merged(port=9000, host=None)
    assert settings.database_url == "sqlite:///data/app.db"
    assert settings.port == 9000
    assert settings.host == "0.0.0.0"
    assert settings.max_body_bytes == 2048
    assert settings.debug is True
    assert settings.secret == "s3cret"


def test_bad_integer_in_the_environment_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="AMPBASE_PORT"):
        Settings.from_env({"AMPBASE_PORT": "many"})


def test_url_follows_tls_and_public_url() -> None:
    assert Settings(port=4000).url == "http://127.0.0.1:4000/graphql"
    tls = Settings(tls_cert=Path("c.pem"), tls_key=Path("k.pem"))
    assert tls.url == "https://127.0.0.1:4443/graphql"
    assert Settings(host="0.0.0.0").url == "http://127.0.0.1:4443/graphql"
    assert Settings(host="::1").url == "http://[::1]:4443/graphql"
    assert Settings(public_url="https://api.example.com/graphql/").url == "https://api.example.com/graphql"


@pytest.mark.parametrize(
    "settings",
    [
        Settings(tls_cert=Path("c.pem")),
        Settings(port=0),
        Settings(port=70000),
        Settings(public_url="https://api.example.com/graphql?x=1"),
        Settings(public_url="api.example.com/graphql"),
        Settings(database_url="mysql://localhost/db"),
        Settings(database_url="sqlite:///"),
    ],
)
def test_invalid_settings_are_refused(settings: Settings) -> None:
    with pytest.raises(ConfigError):
        settings.validate()


def test_sqlite_urls() -> None:
    assert sqlite_path("sqlite:///rel/app.db") == Path("rel/app.db")
    assert sqlite_path("sqlite:////abs/app.db") == Path("/abs/app.db")
    assert sqlite_path("plain/file.db") == Path("plain/file.db")


def test_state_dir_sits_next_to_the_database() -> None:
    assert state_dir_for("sqlite:///.ampbase/sandbox.db") == Path(".ampbase")
    assert state_dir_for("sqlite:////srv/data/app.db") == Path("/srv/data/.ampbase")
    assert Settings(state_dir=Path("/tmp/s")).resolved_state_dir == Path("/tmp/s")
