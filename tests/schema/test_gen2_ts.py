"""Loading an Amplify Gen 2 project's ``amplify/data/resource.ts`` with the project's own Node packages.

Every Gen 2 oracle sample's ``input.ts`` is loaded from a Gen 2-style project and must resolve to
the same schema, and compile to the same API, as the SDL AWS's data-schema emitted for it
(``input.graphql``); ``defineData``'s modes must be the ones Amplify deployed (``meta.json``).

The Node packages live in ``tests/fixtures/gen2-project/node_modules`` (``make interop-deps``:
``npm ci`` + ``npm install --no-save @aws-amplify/backend``); tests that need them skip with a
reason when node or the packages are missing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ampbase.compiler.graphql_schema import compile_sdl
from ampbase.errors import SchemaDefinitionError
from ampbase.schema.gen2_ts import (
    CLOUD_OUTPUTS,
    OUTPUTS,
    Gen2Project,
    find_gen2_resource,
    gen2_project_root,
    gen2_root_of,
    is_gen2_project,
    is_gen2_source,
    load_gen2_project,
    load_gen2_resources,
    prepare_outputs_file,
    restore_outputs_file,
    watch_paths,
)
from ampbase.schema.ir import SchemaDef
from ampbase.schema.loader import load_schema
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NODE_MODULES = FIXTURES / "gen2-project" / "node_modules"
SAMPLES = sorted(p.name for p in (FIXTURES / "oracle").glob("gen2-*") if (p / "input.ts").exists())
NODE = shutil.which("node")


def _installed(name: str) -> bool:
    return (NODE_MODULES / name / "package.json").is_file()


def _node_version() -> tuple[int, int]:
    assert NODE is not None
    out = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True).stdout
    major, minor = out.strip().lstrip("v").split(".")[:2]
    return int(major), int(minor)


needs_packages = pytest.mark.skipif(
    NODE is None or not _installed("@aws-amplify/data-schema") or not _installed("tsx"),
    reason="needs node and tests/fixtures/gen2-project/node_modules (make interop-deps)",
)
needs_real_backend = pytest.mark.skipif(
    NODE is None or not _installed("@aws-amplify/backend"),
    reason="needs @aws-amplify/backend in tests/fixtures/gen2-project/node_modules (make interop-deps)",
)

_APPSYNC_MODES = {
    "userPool": "AMAZON_COGNITO_USER_POOLS",
    "iam": "AWS_IAM",
    "apiKey": "API_KEY",
    "oidc": "OPENID_CONNECT",
    "lambda": "AWS_LAMBDA",
}


def make_project(
    root: Path, resource_ts: str, *, packages: tuple[str, ...] | None = None, esm: bool = True
) -> Path:
    """A Gen 2-style project: package.json, amplify/package.json (ESM), amplify/data/resource.ts.

    ``node_modules`` is a symlink to the installed fixture, or (``packages``) a folder holding
    symlinks to just those packages. ``esm=False`` leaves out ``amplify/package.json``.
    """
    (root / "amplify" / "data").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "app", "private": true}\n', encoding="utf-8")
    if esm:
        (root / "amplify" / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    (root / "amplify" / "data" / "resource.ts").write_text(resource_ts, encoding="utf-8")
    if packages is None:
        (root / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    else:
        for name in packages:
            link = root / "node_modules" / name
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(NODE_MODULES / name, target_is_directory=True)
    return root


def _all_packages_but_the_backend() -> tuple[str, ...]:
    names: list[str] = []
    for entry in NODE_MODULES.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.name.startswith("@"):
            names.extend(f"{entry.name}/{p.name}" for p in entry.iterdir())
        else:
            names.append(entry.name)
    return tuple(n for n in names if n != "@aws-amplify/backend")


def _without_custom_handlers(schema: SchemaDef) -> SchemaDef:
    """``a.handler.custom`` has no directive in data-schema's SDL; the loader adds it from transform()."""
    operations = tuple(
        dataclasses.replace(op, handlers=tuple(h for h in op.handlers if h.kind != "custom"))
        for op in schema.operations
    )
    return dataclasses.replace(schema, operations=operations)


@pytest.fixture(scope="module", params=["builtin", "project"])
def loaded_samples(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Gen2Project]:
    """Every sample, as ``<root>/<sample>/amplify/data/resource.ts``, loaded in one node run."""
    backend = str(request.param)
    if NODE is None or not _installed("@aws-amplify/data-schema") or not _installed("tsx"):
        pytest.skip("needs node and tests/fixtures/gen2-project/node_modules (make interop-deps)")
    if backend == "project" and not _installed("@aws-amplify/backend"):
        pytest.skip(
            "needs @aws-amplify/backend in tests/fixtures/gen2-project/node_modules (make interop-deps)"
        )
    root = tmp_path_factory.mktemp(f"gen2-{backend}")
    (root / "package.json").write_text('{"name": "app", "private": true}\n', encoding="utf-8")
    (root / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    files = []
    for sample in SAMPLES:
        data_dir = root / sample / "amplify" / "data"
        data_dir.mkdir(parents=True)
        (root / sample / "amplify" / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
        shutil.copy(FIXTURES / "oracle" / sample / "input.ts", data_dir / "resource.ts")
        files.append(data_dir / "resource.ts")
    projects = load_gen2_resources(root, files, backend=backend)
    return dict(zip(SAMPLES, projects, strict=True))


def test_there_are_gen2_samples() -> None:
    assert len(SAMPLES) >= 10


@pytest.mark.parametrize("sample", SAMPLES)
def test_resource_ts_resolves_like_the_data_schema_sdl(
    loaded_samples: dict[str, Gen2Project], sample: str
) -> None:
    project = loaded_samples[sample]
    assert project.schema.flavour == "gen2"
    sdl = load_sdl_path(
        FIXTURES / "oracle" / sample / "input.graphql", flavour="gen2", auth=project.schema.auth
    )
    ours = resolve_schema(_without_custom_handlers(project.schema))
    theirs = resolve_schema(sdl)
    assert ours == theirs
    assert compile_sdl(resolve_schema(project.schema)) == compile_sdl(theirs)


@pytest.mark.parametrize("sample", SAMPLES)
def test_define_data_modes_are_the_ones_amplify_deployed(
    loaded_samples: dict[str, Gen2Project], sample: str
) -> None:
    meta = json.loads((FIXTURES / "oracle" / sample / "meta.json").read_text(encoding="utf-8"))
    auth = loaded_samples[sample].schema.auth
    assert _APPSYNC_MODES[auth.default_mode] == meta["authModes"]["default"]
    assert [_APPSYNC_MODES[m] for m in auth.modes] == meta["authModes"]["enabled"]


def test_api_key_expiry_and_lambda_authorizer_settings_are_kept(
    loaded_samples: dict[str, Gen2Project],
) -> None:
    project = loaded_samples["gen2-auth-rules"]
    settings = project.schema.auth.settings
    assert settings["api_key_authorization_mode"] == {"expires_in_days": 30}
    assert settings["lambda_authorization_mode"] == {
        "function": "lambdaAuthorizer",
        "time_to_live_in_seconds": 60,
    }
    assert any("Lambda authorizer 'lambdaAuthorizer'" in w for w in project.warnings)


def test_function_and_js_handlers_are_reported_as_not_runnable(
    loaded_samples: dict[str, Gen2Project],
) -> None:
    project = loaded_samples["gen2-custom-operations"]
    by_op = {h.operation: h for h in project.handlers}
    assert by_op["Query.echo"].kind == "function"
    assert by_op["Query.echo"].slot == "FnEcho"
    assert by_op["Query.echo"].function_name == "echo-handler"
    assert by_op["Query.echo"].entry == "./echo-handler/handler.ts"
    assert by_op["Subscription.onPostLiked"].kind == "custom"
    assert by_op["Subscription.onPostLiked"].entry == "./onPostLiked.js"
    assert not any(h.runnable for h in project.handlers)
    assert len(project.warnings) == 3
    assert project.warnings[0] == (
        "Query.echo is served by the Lambda function 'echo-handler' (FnEcho), which ampbase cannot run "
        "locally (calls return a HandlerNotFound error); add a Python handler to "
        'gen2-custom-operations/amplify/data/handlers.py: handlers = {"FnEcho": fn}'
    )
    on_post_liked = next(op for op in project.schema.operations if op.name == "onPostLiked")
    assert [h.kind for h in on_post_liked.handlers] == ["custom"]


def test_samples_without_custom_handlers_load_without_warnings(
    loaded_samples: dict[str, Gen2Project],
) -> None:
    assert loaded_samples["gen2-todo"].warnings == ()
    assert loaded_samples["gen2-todo"].handlers == ()


# --------------------------------------------------------------------------- one project

TODO_TS = (FIXTURES / "oracle" / "gen2-todo" / "input.ts").read_text(encoding="utf-8")
CUSTOM_OPS_TS = (FIXTURES / "oracle" / "gen2-custom-operations" / "input.ts").read_text(encoding="utf-8")


@needs_packages
def test_load_schema_accepts_a_project_root_and_a_resource_file(tmp_path: Path) -> None:
    root = make_project(tmp_path / "app", TODO_TS)
    expected = resolve_schema(
        load_sdl_path(
            FIXTURES / "oracle" / "gen2-todo" / "input.graphql",
            flavour="gen2",
            auth=load_gen2_project(root).schema.auth,
        )
    )
    assert load_schema(root) == expected
    assert load_schema(root / "amplify" / "data" / "resource.ts") == expected


@needs_packages
def test_load_schema_hands_the_warnings_to_warn(tmp_path: Path) -> None:
    root = make_project(tmp_path / "app", CUSTOM_OPS_TS)
    warnings: list[str] = []
    schema = load_schema(root, warn=warnings.append)
    assert [w.split(" ")[0] for w in warnings] == [
        "Query.echo",
        "Mutation.likePost",
        "Subscription.onPostLiked",
    ]
    assert schema == resolve_schema(load_gen2_project(root).schema)


@needs_packages
def test_python_handlers_replace_functions_by_slot_function_or_operation_name(tmp_path: Path) -> None:
    root = make_project(tmp_path / "app", CUSTOM_OPS_TS)
    (root / "amplify" / "data" / "handlers.py").write_text(
        "def echo(event):\n"
        "    return {'content': event['arguments']['content'], 'executionDuration': 0.5}\n"
        "def like(*, arguments):\n"
        "    return None\n"
        "def filtered(event):\n"
        "    return None\n"
        "handlers = {'FnEcho': echo, 'likePost': like, 'onPostLiked': filtered}\n",
        encoding="utf-8",
    )
    project = load_gen2_project(root)
    ops = {op.name: op for op in project.schema.operations}
    (echo,) = ops["echo"].handlers
    assert (echo.kind, echo.function_name) == ("python", "FnEcho")
    assert echo.callable({"arguments": {"content": "hi"}}) == {"content": "hi", "executionDuration": 0.5}
    (like,) = ops["likePost"].handlers
    assert (like.kind, like.callable.__name__) == ("python", "like")
    assert [h.kind for h in ops["onPostLiked"].handlers] == ["python"]
    assert all(h.runnable for h in project.handlers)
    assert project.warnings == ()


@needs_packages
def test_python_handler_keyed_by_the_define_function_name(tmp_path: Path) -> None:
    root = make_project(tmp_path / "app", CUSTOM_OPS_TS)
    (root / "amplify" / "data" / "handlers.py").write_text(
        "def echo(event):\n    return None\nhandlers = {'echo-handler': echo, 'nope': echo}\n",
        encoding="utf-8",
    )
    project = load_gen2_project(root)
    ops = {op.name: op for op in project.schema.operations}
    assert [h.kind for h in ops["echo"].handlers] == ["python"]
    assert [h.kind for h in ops["likePost"].handlers] == ["python"]
    assert (
        project.warnings[-1] == "handlers.py: no Lambda function slot, function or operation is named 'nope'"
    )


@needs_packages
def test_handlers_py_without_a_mapping_is_an_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "app", CUSTOM_OPS_TS)
    (root / "amplify" / "data" / "handlers.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(SchemaDefinitionError, match="defines no `handlers` mapping"):
        load_gen2_project(root)


@needs_packages
def test_relative_imports_without_extension_and_define_function_resources(tmp_path: Path) -> None:
    resource = (
        "import { a, defineData, type ClientSchema } from '@aws-amplify/backend';\n"
        "import { sayHello } from '../functions/say-hello/resource';\n"
        "import { Note } from './models';\n"
        "const schema = a.schema({\n"
        "  Note,\n"
        "  sayHello: a.query().arguments({ name: a.string() }).returns(a.string())\n"
        "    .authorization((allow) => [allow.publicApiKey()]).handler(a.handler.function(sayHello)),\n"
        "}).authorization((allow) => [allow.publicApiKey()]);\n"
        "export type Schema = ClientSchema<typeof schema>;\n"
        "export const data = defineData({ schema, authorizationModes: {\n"
        "  defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 7 } } });\n"
    )
    root = make_project(tmp_path / "app", resource)
    (root / "amplify" / "data" / "models.ts").write_text(
        "import { a } from '@aws-amplify/backend';\nexport const Note = a.model({ body: a.string() });\n",
        encoding="utf-8",
    )
    fn_dir = root / "amplify" / "functions" / "say-hello"
    fn_dir.mkdir(parents=True)
    (fn_dir / "resource.ts").write_text(
        "import { defineFunction } from '@aws-amplify/backend';\n"
        "export const sayHello = defineFunction({ name: 'say-hello' });\n",
        encoding="utf-8",
    )
    project = load_gen2_project(root)
    assert [m.name for m in project.schema.models] == ["Note"]
    assert project.schema.auth.settings == {"api_key_authorization_mode": {"expires_in_days": 7}}
    (handler,) = project.handlers
    assert (handler.slot, handler.function_name) == ("FnSayHello", "say-hello")


@needs_packages
def test_a_module_without_define_data_gets_the_dsl_default_modes(tmp_path: Path) -> None:
    resource = (
        "import { a } from '@aws-amplify/data-schema';\n"
        "export const schema = a.schema({ Todo: a.model({ content: a.string() }) })\n"
        "  .authorization((allow) => [allow.publicApiKey()]);\n"
    )
    project = load_gen2_project(make_project(tmp_path / "app", resource))
    assert project.schema.auth.default_mode == "apiKey"
    assert project.schema.auth.modes == ("apiKey", "userPool", "iam")


@needs_packages
def test_an_sdl_string_schema_is_loaded_as_gen2_sdl(tmp_path: Path) -> None:
    resource = (
        "import { defineData } from '@aws-amplify/backend';\n"
        "const schema = `type Todo @model @auth(rules: [{ allow: public }]) { content: String }`;\n"
        "export const data = defineData({\n"
        "  schema, authorizationModes: { defaultAuthorizationMode: 'apiKey' } });\n"
    )
    project = load_gen2_project(make_project(tmp_path / "app", resource))
    assert [m.name for m in project.schema.models] == ["Todo"]
    assert project.schema.flavour == "gen2"
    assert project.schema.auth.default_mode == "apiKey"


@needs_packages
def test_combined_schemas_are_served_as_one_api(tmp_path: Path) -> None:
    resource = (
        "import { a, defineData } from '@aws-amplify/backend';\n"
        "const one = a.schema({ Todo: a.model({ content: a.string() }) })\n"
        "  .authorization((allow) => [allow.publicApiKey()]);\n"
        "const two = a.schema({ Note: a.model({ body: a.string() }) })\n"
        "  .authorization((allow) => [allow.publicApiKey()]);\n"
        "export const data = defineData({\n"
        "  schema: a.combine([one, two]), authorizationModes: { defaultAuthorizationMode: 'apiKey' } });\n"
    )
    schema = load_schema(make_project(tmp_path / "app", resource))
    assert [m.name for m in schema.models] == ["Todo", "Note"]


@needs_packages
def test_oidc_and_lambda_modes_map_to_define_data_settings(tmp_path: Path) -> None:
    resource = (
        "import { a, defineData, defineFunction } from '@aws-amplify/backend';\n"
        "const authorizer = defineFunction({ name: 'my-authorizer' });\n"
        "const schema = a.schema({ Todo: a.model({ content: a.string() }) })\n"
        "  .authorization((allow) => [allow.custom(), allow.authenticated('oidc')]);\n"
        "export const data = defineData({ schema, authorizationModes: {\n"
        "  defaultAuthorizationMode: 'lambda',\n"
        "  lambdaAuthorizationMode: { function: authorizer, timeToLiveInSeconds: 300 },\n"
        "  oidcAuthorizationMode: { oidcProviderName: 'Auth0', oidcIssuerUrl: 'https://x.auth0.com',\n"
        "    clientId: 'abc', tokenExpiryFromAuthInSeconds: 300, tokenExpireFromIssueInSeconds: 600 },\n"
        "} });\n"
    )
    root = make_project(tmp_path / "app", resource)
    (root / "amplify" / "data" / "handlers.py").write_text(
        "def authorize(event):\n    return {'isAuthorized': True}\nhandlers = {'my-authorizer': authorize}\n",
        encoding="utf-8",
    )
    project = load_gen2_project(root)
    auth = project.schema.auth
    assert auth.default_mode == "lambda"
    assert auth.modes == ("lambda", "userPool", "iam", "oidc")
    assert auth.settings["oidc_authorization_mode"] == {
        "oidc_provider_name": "Auth0",
        "oidc_issuer_url": "https://x.auth0.com",
        "client_id": "abc",
        "token_expiry_from_auth_in_seconds": 300,
        "token_expire_from_issued_in_seconds": 600,
    }
    lambda_mode = auth.settings["lambda_authorization_mode"]
    assert lambda_mode["time_to_live_in_seconds"] == 300
    assert lambda_mode["function"]({"authorizationToken": "x"}) == {"isAuthorized": True}
    assert project.warnings == ()


@needs_packages
def test_an_error_in_resource_ts_points_at_its_line(tmp_path: Path) -> None:
    resource = "import { a } from '@aws-amplify/backend';\n\nthrow new Error('broken schema');\n"
    root = make_project(tmp_path / "app", resource)
    with pytest.raises(SchemaDefinitionError, match="broken schema") as info:
        load_gen2_project(root)
    assert info.value.source is not None
    assert info.value.source.file == str(root / "amplify" / "data" / "resource.ts")
    assert info.value.source.line == 3


@needs_packages
def test_a_module_without_a_schema_is_an_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "app", "export const x = 1;\n")
    with pytest.raises(SchemaDefinitionError, match="no data schema found"):
        load_gen2_project(root)


@needs_packages
def test_typescript_is_transpiled_with_the_typescript_package_when_there_is_no_tsx(tmp_path: Path) -> None:
    if _node_version() >= (22, 6):
        pytest.skip("node strips types itself from 22.6")
    root = make_project(tmp_path / "app", TODO_TS, packages=("@aws-amplify/data-schema", "typescript"))
    assert [m.name for m in load_gen2_project(root).schema.models] == ["Todo"]


@needs_packages
def test_typescript_is_transpiled_with_esbuild_as_a_last_resort(tmp_path: Path) -> None:
    if _node_version() >= (22, 6):
        pytest.skip("node strips types itself from 22.6")
    if not _installed("esbuild"):
        pytest.skip("esbuild (a dependency of tsx) is not installed")
    packages = (
        "@aws-amplify/data-schema",
        "esbuild",
        *(f"@esbuild/{p.name}" for p in (NODE_MODULES / "@esbuild").iterdir()),
    )
    root = make_project(tmp_path / "app", TODO_TS, packages=packages)
    assert [m.name for m in load_gen2_project(root).schema.models] == ["Todo"]


@needs_packages
def test_without_a_typescript_runner_on_node_20_the_error_names_the_install_command(tmp_path: Path) -> None:
    if _node_version() >= (22, 6):
        pytest.skip("node strips types itself from 22.6")
    root = make_project(tmp_path / "app", TODO_TS, packages=("@aws-amplify/data-schema",))
    with pytest.raises(SchemaDefinitionError) as info:
        load_gen2_project(root)
    assert "npm install --save-dev tsx" in (info.value.hint or "")


@needs_packages
@pytest.mark.parametrize("esm", [True, False], ids=["esm", "commonjs"])
def test_without_the_backend_package_the_builtin_stand_in_is_used(tmp_path: Path, esm: bool) -> None:
    root = make_project(tmp_path / "app", CUSTOM_OPS_TS, packages=_all_packages_but_the_backend(), esm=esm)
    project = load_gen2_project(root)
    assert [m.name for m in project.schema.models] == ["Todo"]
    assert {h.function_name for h in project.handlers if h.kind == "function"} == {"echo-handler"}
    with pytest.raises(SchemaDefinitionError, match="@aws-amplify/backend not found") as info:
        load_gen2_project(root, backend="project")
    assert "npm install" in (info.value.hint or "")


@needs_real_backend
def test_the_real_backend_package_can_be_required(tmp_path: Path) -> None:
    root = make_project(tmp_path / "app", CUSTOM_OPS_TS)
    project = load_gen2_project(root, backend="project")
    assert {h.function_name for h in project.handlers if h.kind == "function"} == {"echo-handler"}


def test_missing_packages_name_npm_ci_when_there_is_a_lock_file(tmp_path: Path) -> None:
    if NODE is None:
        pytest.skip("needs node")
    root = tmp_path / "app"
    (root / "amplify" / "data").mkdir(parents=True)
    (root / "amplify" / "data" / "resource.ts").write_text(TODO_TS, encoding="utf-8")
    with pytest.raises(SchemaDefinitionError) as info:
        load_gen2_project(root)
    assert "npm install" in (info.value.hint or "")
    (root / "package-lock.json").write_text("{}", encoding="utf-8")
    with pytest.raises(SchemaDefinitionError) as info:
        load_gen2_project(root)
    assert "npm ci" in (info.value.hint or "")


def test_missing_node_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "app"
    (root / "amplify" / "data").mkdir(parents=True)
    (root / "amplify" / "data" / "resource.ts").write_text(TODO_TS, encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SchemaDefinitionError, match="`node` was not found") as info:
        load_gen2_project(root)
    assert "nodejs.org" in (info.value.hint or "")


def test_a_directory_without_a_resource_is_not_a_gen2_project(tmp_path: Path) -> None:
    assert not is_gen2_project(tmp_path)
    assert find_gen2_resource(tmp_path) is None
    with pytest.raises(SchemaDefinitionError, match="No Amplify Gen 2 data resource"):
        load_gen2_project(tmp_path)


def test_project_root_of_a_resource_file(tmp_path: Path) -> None:
    resource = tmp_path / "app" / "amplify" / "data" / "resource.ts"
    resource.parent.mkdir(parents=True)
    resource.write_text("", encoding="utf-8")
    assert is_gen2_project(tmp_path / "app")
    assert find_gen2_resource(tmp_path / "app") == resource
    assert gen2_project_root(resource) == (tmp_path / "app").resolve()
    other = tmp_path / "lib" / "schema" / "my.ts"
    other.parent.mkdir(parents=True)
    (tmp_path / "lib" / "package.json").write_text("{}", encoding="utf-8")
    assert gen2_project_root(other) == (tmp_path / "lib").resolve()
    assert gen2_root_of(tmp_path / "app") == (tmp_path / "app").resolve()
    assert gen2_root_of(resource) == (tmp_path / "app").resolve()
    assert gen2_root_of(tmp_path / "lib") is None
    assert gen2_root_of(tmp_path / "schema.graphql") is None


# --------------------------------------------------------------------------- sandbox helpers

CLOUD = {"version": "1.4", "data": {"url": "https://abc.appsync-api.us-east-1.amazonaws.com/graphql"}}
LOCAL = {"version": "1.4", "data": {"url": "https://127.0.0.1:4443/graphql"}}


def test_a_cloud_outputs_file_is_moved_aside_and_restored(tmp_path: Path) -> None:
    (tmp_path / OUTPUTS).write_text(json.dumps(CLOUD), encoding="utf-8")
    target = prepare_outputs_file(tmp_path)
    assert target == tmp_path / OUTPUTS
    assert not target.exists()
    assert json.loads((tmp_path / CLOUD_OUTPUTS).read_text(encoding="utf-8")) == CLOUD
    target.write_text(json.dumps(LOCAL), encoding="utf-8")  # what the sandbox writes
    assert restore_outputs_file(tmp_path)
    assert json.loads((tmp_path / OUTPUTS).read_text(encoding="utf-8")) == CLOUD
    assert not (tmp_path / CLOUD_OUTPUTS).exists()
    assert not restore_outputs_file(tmp_path)


def test_a_local_outputs_file_is_overwritten_in_place(tmp_path: Path) -> None:
    (tmp_path / OUTPUTS).write_text(json.dumps(LOCAL), encoding="utf-8")
    assert prepare_outputs_file(tmp_path) == tmp_path / OUTPUTS
    assert (tmp_path / OUTPUTS).exists()
    assert not (tmp_path / CLOUD_OUTPUTS).exists()


def test_an_existing_cloud_backup_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / CLOUD_OUTPUTS).write_text(json.dumps(CLOUD), encoding="utf-8")
    other = {"version": "1.4", "data": {"url": "https://other.appsync-api.eu-west-1.amazonaws.com/graphql"}}
    (tmp_path / OUTPUTS).write_text(json.dumps(other), encoding="utf-8")
    prepare_outputs_file(tmp_path)
    assert json.loads((tmp_path / CLOUD_OUTPUTS).read_text(encoding="utf-8")) == CLOUD
    assert not (tmp_path / OUTPUTS).exists()


def test_the_sandbox_watches_amplify_sources(tmp_path: Path) -> None:
    assert watch_paths(tmp_path) == [tmp_path / "amplify"]
    assert is_gen2_source(tmp_path / "amplify" / "data" / "resource.ts")
    assert is_gen2_source(tmp_path / "amplify" / "data" / "handlers.py")
    assert not is_gen2_source(tmp_path / "amplify" / "node_modules" / "x" / "index.js")
    assert not is_gen2_source(tmp_path / "amplify" / "data" / "__pycache__" / "handlers.cpython-311.pyc")
    assert not is_gen2_source(os.path.join(tmp_path, ".amplify", "artifacts", "x.ts"))
