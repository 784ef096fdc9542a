"""Every Gen 2 oracle sample, written in the Python DSL, resolves to the same schema as the SDL
AWS's data-schema emitted for its ``input.ts`` (``tests/fixtures/oracle/gen2-*/input.graphql``).

Two differences are representational, not bugs, and are normalised before comparing:

* schema-level ``.authorization()`` is kept in ``schema_auth_rules`` by the DSL (data-schema has
  already copied it onto every model in its SDL, so the SDL side has none);
* ``a.handler.custom(...)`` (an AppSync JS resolver) is kept as ``HandlerDef(kind="custom")``;
  data-schema's SDL has no directive for it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ampbase.schema.dsl import load_resource
from ampbase.schema.ir import SchemaDef
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SAMPLES = sorted(p.name for p in (FIXTURES / "oracle").glob("gen2-*") if (p / "input.ts").exists())


def _without_custom_handlers(schema: SchemaDef) -> SchemaDef:
    operations = tuple(
        dataclasses.replace(op, handlers=tuple(h for h in op.handlers if h.kind != "custom"))
        for op in schema.operations
    )
    return dataclasses.replace(schema, operations=operations)


def test_every_gen2_sample_has_a_dsl_fixture() -> None:
    assert SAMPLES
    missing = [s for s in SAMPLES if not (FIXTURES / "dsl" / f"{s.replace('-', '_')}.py").exists()]
    assert missing == []


@pytest.mark.parametrize("sample", SAMPLES)
def test_dsl_fixture_resolves_like_the_data_schema_sdl(sample: str) -> None:
    declared = load_resource(FIXTURES / "dsl" / f"{sample.replace('-', '_')}.py")
    sdl = load_sdl_path(FIXTURES / "oracle" / sample / "input.graphql", flavour="gen2", auth=declared.auth)
    assert declared.flavour == sdl.flavour == "gen2"

    ours = resolve_schema(_without_custom_handlers(declared))
    theirs = resolve_schema(sdl)
    own_rules = {m.name: m.auth_rules for m in declared.models}
    for model in ours.models:
        if not own_rules[model.name]:  # models without rules got the schema-level ones
            assert model.auth_rules == declared.schema_auth_rules
    assert dataclasses.replace(ours, schema_auth_rules=()) == theirs


_APPSYNC_MODES = {
    "userPool": "AMAZON_COGNITO_USER_POOLS",
    "iam": "AWS_IAM",
    "apiKey": "API_KEY",
    "oidc": "OPENID_CONNECT",
    "lambda": "AWS_LAMBDA",
}


@pytest.mark.parametrize("sample", SAMPLES)
def test_define_data_enables_the_modes_amplify_deployed(sample: str) -> None:
    meta = json.loads((FIXTURES / "oracle" / sample / "meta.json").read_text(encoding="utf-8"))
    auth = load_resource(FIXTURES / "dsl" / f"{sample.replace('-', '_')}.py").auth
    assert _APPSYNC_MODES[auth.default_mode] == meta["authModes"]["default"]
    assert [_APPSYNC_MODES[m] for m in auth.modes] == meta["authModes"]["enabled"]
