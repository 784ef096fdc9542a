"""``ampbase token``: a user-pool access token signed by the sandbox's local issuer.

The key lives in the server's state directory (``.ampbase/`` next to the database), so the
running sandbox or server accepts the token at once (``docs/authorization.md``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ampbase.auth.issuer import LocalIssuer
from ampbase.cli.output import echo
from ampbase.errors import ConfigError

__all__ = ["run_token"]


def _check_outputs(path: Path) -> None:
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no outputs file at {path}") from None
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from exc
    data = outputs.get("data") if isinstance(outputs, dict) else None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} has no 'data' section")
    types = [data.get("default_authorization_type"), *(data.get("authorization_types") or [])]
    if "AMAZON_COGNITO_USER_POOLS" not in types:
        echo(
            f"warning: the API of {path} does not enable user pools (authorization types: "
            f"{', '.join(str(t) for t in types if t)}); it will refuse this token",
            err=True,
        )


def run_token(
    state_dir: Path,
    username: str,
    *,
    sub: str | None = None,
    groups: Sequence[str] = (),
    ttl: int = 3600,
    id_token: bool = False,
    outputs: Path | None = None,
) -> int:
    if ttl <= 0:
        raise ConfigError("--ttl must be a positive number of seconds")
    if not username:
        raise ConfigError("--username must not be empty")
    if outputs is not None:
        _check_outputs(outputs)
    issuer = LocalIssuer.load_or_create(state_dir)
    kind = "id" if id_token else "access"
    echo(issuer.issue_token(username, sub=sub, groups=groups, ttl=ttl, token_use=kind))
    return 0
