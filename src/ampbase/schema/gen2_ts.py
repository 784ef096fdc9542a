"""Load an existing Amplify Gen 2 project: ``amplify/data/resource.ts`` → the declared IR.

Amplify Gen 2 defines the data API in TypeScript (``a.schema({...})`` from
``@aws-amplify/data-schema``, ``defineData`` from ``@aws-amplify/backend``). This module runs
``node`` with the project's own ``node_modules`` to import that file
(:file:`gen2_export.mjs`, shipped with ampbase), takes the SDL ``schema.transform()`` emits
(what Gen 2 hands to AWS's GraphQL transformer) and ``defineData``'s authorization modes as
JSON, and builds the declared IR with the SDL front end (flavour ``gen2``) and an
:class:`~ampbase.schema.ir.AuthConfig` exactly as :func:`ampbase.schema.dsl.define_data`
would.

TypeScript is run with, in this order: the project's ``tsx``; Node's own type stripping
(Node ≥ 22.6); the project's ``typescript`` or ``esbuild`` package (transpile only).
``@aws-amplify/backend`` itself is replaced by a small stand-in (:file:`gen2_backend_shim.mjs`)
whenever ``@aws-amplify/data-schema`` resolves from the project root: importing the real
package loads the whole AWS CDK (seconds per reload) for nothing the data definition needs.
``backend="project"`` forces the real package, ``backend="builtin"`` the stand-in.

Custom operations served by a Lambda function (``a.handler.function(fn)``) or an AppSync JS
resolver (``a.handler.custom``) cannot run locally; they are listed in
:attr:`Gen2Project.warnings` / :attr:`Gen2Project.handlers` and the rest of the API is served.
Python stand-ins go in ``amplify/data/handlers.py``::

    def echo(event):            # Lambda style, or fn(*, arguments, identity, context)
        return {"content": event["arguments"]["content"], "executionDuration": 0.0}

    handlers = {"FnEcho": echo}  # keys: Gen 2 slot (FnEcho), function name, or operation name

The sandbox helpers at the end (:func:`prepare_outputs_file`, :func:`restore_outputs_file`,
:func:`watch_paths`) put ``amplify_outputs.json`` where the frontend reads it, keeping a
cloud copy aside.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import (
    AuthConfig,
    CustomOperationDef,
    HandlerDef,
    OperationKind,
    SchemaDef,
    SourceLocation,
)

__all__ = [
    "CLOUD_OUTPUTS",
    "OUTPUTS",
    "RESOURCE_NAMES",
    "Gen2Handler",
    "Gen2Project",
    "find_gen2_resource",
    "gen2_project_root",
    "gen2_root_of",
    "is_gen2_project",
    "is_gen2_source",
    "load_gen2_project",
    "load_gen2_resources",
    "prepare_outputs_file",
    "restore_outputs_file",
    "watch_paths",
]

RESOURCE_NAMES = ("resource.ts", "resource.mts", "resource.js", "resource.mjs")
HANDLERS_FILE = "handlers.py"
OUTPUTS = "amplify_outputs.json"
CLOUD_OUTPUTS = "amplify_outputs.cloud.json"

_HERE = Path(__file__).resolve().parent
_EXPORT_SCRIPT = _HERE / "gen2_export.mjs"
_TS_SUFFIXES = (".ts", ".mts", ".tsx", ".cts")
_NODE_TIMEOUT = 120.0
_BACKENDS = ("auto", "project", "builtin")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0")


@dataclass(frozen=True, slots=True)
class Gen2Handler:
    """A custom operation's Gen 2 handler and whether ampbase can run it.

    ``kind`` is ``"function"`` (a Lambda function from ``defineFunction``), ``"custom"`` (an
    AppSync JS resolver) or ``"python"`` (replaced by a callable from ``handlers.py``).
    """

    operation: str  # "Query.echo"
    kind: str
    slot: str | None = None  # the Gen 2 function slot, e.g. "FnEcho"
    function_name: str | None = None  # defineFunction's name, e.g. "echo-handler"
    entry: str | None = None  # the handler source Gen 2 would deploy
    runnable: bool = False


@dataclass(frozen=True, slots=True)
class Gen2Project:
    """A loaded Gen 2 data resource: the declared schema plus what cannot run locally."""

    root: Path
    resource: Path
    schema: SchemaDef
    warnings: tuple[str, ...] = ()
    handlers: tuple[Gen2Handler, ...] = ()


# --------------------------------------------------------------------------- locating


def find_gen2_resource(root: Path) -> Path | None:
    """``root/amplify/data/resource.ts`` (or ``.mts``/``.js``/``.mjs``) when it exists."""
    data_dir = root / "amplify" / "data"
    for name in RESOURCE_NAMES:
        candidate = data_dir / name
        if candidate.is_file():
            return candidate
    return None


def is_gen2_project(path: Path) -> bool:
    """Whether ``path`` is a Gen 2 project root (has ``amplify/data/resource.ts``)."""
    return path.is_dir() and find_gen2_resource(path) is not None


def gen2_root_of(path: Path) -> Path | None:
    """The Gen 2 project ``path`` names (its root, or its resource file), else ``None``."""
    path = Path(path)
    if path.is_dir():
        return path.resolve() if is_gen2_project(path) else None
    if path.suffix in (".ts", ".mts", ".mjs") or path.name == "resource.js":
        return gen2_project_root(path)
    return None


def gen2_project_root(resource: Path) -> Path:
    """The project root of a resource file: above ``amplify/data/``, else the nearest
    directory with a ``package.json`` or ``node_modules``, else the file's directory."""
    resource = resource.resolve()
    parents = resource.parents
    if len(parents) >= 3 and parents[0].name == "data" and parents[1].name == "amplify":
        return parents[2]
    for directory in parents:
        if (directory / "package.json").is_file() or (directory / "node_modules").is_dir():
            return directory
    return resource.parent


# --------------------------------------------------------------------------- loading


def load_gen2_project(
    root: Path, *, resource: Path | None = None, backend: str = "auto", node: str | None = None
) -> Gen2Project:
    """Load the Gen 2 project at ``root`` (``amplify/data/resource.ts`` unless ``resource``)."""
    root = Path(root).resolve()
    if resource is None:
        found = find_gen2_resource(root)
        if found is None:
            raise SchemaDefinitionError(
                "No Amplify Gen 2 data resource found",
                source=SourceLocation(str(root / "amplify" / "data" / "resource.ts")),
                hint="Run ampbase at the root of an Amplify Gen 2 project (the folder that holds "
                "amplify/data/resource.ts), or pass the schema file.",
            )
        resource = found
    return load_gen2_resources(root, [resource], backend=backend, node=node)[0]


def load_gen2_resources(
    root: Path, resources: Sequence[Path], *, backend: str = "auto", node: str | None = None
) -> list[Gen2Project]:
    """Load several resource files that share the project ``root`` with a single ``node`` run."""
    root = Path(root).resolve()
    files = [Path(r).resolve() for r in resources]
    for f in files:
        if not f.is_file():
            raise SchemaDefinitionError(
                "Schema file not found", source=SourceLocation(str(f)), hint="Check the path."
            )
    if not files:
        return []
    answers = _run_export(root, files, backend=backend, node=node)
    return [_project(root, f, answer) for f, answer in zip(files, answers, strict=True)]


def _project(root: Path, resource: Path, answer: Mapping[str, Any]) -> Gen2Project:
    error = answer.get("error")
    if isinstance(error, Mapping):
        raise _module_error(resource, error)
    from ampbase.schema.sdl import load_sdl  # graphql-core's parser, only when needed

    data_props = answer.get("dataProps")
    handlers_module = _load_handlers(resource.parent / HANDLERS_FILE)
    warnings: list[str] = []
    used: set[str] = set()  # handlers.py keys that found their function
    sdl = str(answer.get("sdl", ""))
    # line numbers of SDL errors are those of the generated SDL, not of resource.ts
    filename = f"<schema.transform() of {resource}>"
    if answer.get("hasDefineData"):
        modes = data_props.get("authorizationModes") if isinstance(data_props, Mapping) else None
        auth = _auth_config(modes, resource, handlers_module, warnings, used)
        declared = load_sdl(sdl, filename=filename, flavour="gen2", auth=auth)
    else:
        from ampbase.schema.dsl.data import inferred_auth_config

        declared = load_sdl(sdl, filename=filename, flavour="gen2")
        declared = dataclasses.replace(declared, auth=inferred_auth_config(declared))
    if int(answer.get("functionSlots") or 0):
        warnings.append("Function slots of the schema are not run by ampbase.")
    if int(answer.get("sqlStrategies") or 0):
        warnings.append(
            "SQL data sources (a.sql handlers / custom SQL) are not supported locally; those fields fail."
        )
    handlers_file = _shown(resource.parent / HANDLERS_FILE, root)
    schema, handlers = _attach_handlers(declared, answer, handlers_module, handlers_file, warnings, used)
    return Gen2Project(root, resource, schema, tuple(warnings), handlers)


# --------------------------------------------------------------------------- node


def _run_export(root: Path, files: list[Path], *, backend: str, node: str | None) -> list[Mapping[str, Any]]:
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    node_exe = node or shutil.which("node")
    if node_exe is None:
        raise SchemaDefinitionError(
            "Node.js is needed to read an Amplify Gen 2 schema (amplify/data/resource.ts), "
            "but `node` was not found",
            source=SourceLocation(str(files[0])),
            hint="Install Node.js 20 or newer (https://nodejs.org) and make sure `node` is on PATH.",
        )
    version = _node_version(node_exe, files[0])
    install = _install_command(root)
    data_schema = _find_package(root, "@aws-amplify/data-schema")
    real_backend = _find_package(root, "@aws-amplify/backend")
    if backend == "project" or (backend == "auto" and data_schema is None):
        if real_backend is None:
            raise SchemaDefinitionError(
                "The project's Amplify packages are not installed (@aws-amplify/backend not found "
                f"in node_modules under {root})",
                source=SourceLocation(str(files[0])),
                hint=f"Run `{install}` in {root}.",
            )
        use_shim = False
    else:
        if data_schema is None:
            raise SchemaDefinitionError(
                f"@aws-amplify/data-schema is not installed in {root}",
                source=SourceLocation(str(files[0])),
                hint=f"Run `{install}` in {root} (a Gen 2 project gets it with @aws-amplify/backend).",
            )
        use_shim = True
    config: dict[str, Any] = {"project": str(root), "files": [str(f) for f in files], "useShim": use_shim}
    flags = _typescript_flags(root, files, version, config)
    cmd = [node_exe, *flags, str(_EXPORT_SCRIPT), json.dumps(config)]
    try:
        proc = subprocess.run(
            cmd, cwd=root, capture_output=True, text=True, timeout=_NODE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise SchemaDefinitionError(
            f"Reading the Gen 2 schema took longer than {_NODE_TIMEOUT:.0f} s",
            source=SourceLocation(str(files[0])),
            hint="Check that amplify/data/resource.ts does not wait on the network or stdin.",
        ) from None
    answer = _last_json_line(proc.stdout)
    if proc.returncode != 0 or answer is None:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise SchemaDefinitionError(
            "node could not load the Gen 2 schema"
            + (": " + _first_error_line(detail) if detail else f" (exit status {proc.returncode})"),
            source=SourceLocation(str(files[0])),
            hint=f"If packages are missing, run `{install}` in {root}.",
        )
    results = answer.get("results")
    if not isinstance(results, list) or len(results) != len(files):
        raise SchemaDefinitionError(
            "Unexpected answer from the Gen 2 schema exporter", source=SourceLocation(str(files[0]))
        )
    return [r if isinstance(r, Mapping) else {} for r in results]


def _node_version(node_exe: str, file: Path) -> tuple[int, int]:
    try:
        out = subprocess.run(
            [node_exe, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError as exc:
        raise SchemaDefinitionError(
            f"Cannot run node ({exc})",
            source=SourceLocation(str(file)),
            hint="Install Node.js 20 or newer (https://nodejs.org).",
        ) from None
    match = re.match(r"v?(\d+)\.(\d+)", out.strip())
    if match is None:
        raise SchemaDefinitionError(
            f"Cannot tell the Node.js version from {out.strip()!r}",
            source=SourceLocation(str(file)),
            hint="Install Node.js 20 or newer (https://nodejs.org).",
        )
    version = (int(match.group(1)), int(match.group(2)))
    if version < (20, 6):
        raise SchemaDefinitionError(
            f"Node.js {version[0]}.{version[1]} is too old to read a Gen 2 schema",
            source=SourceLocation(str(file)),
            hint="Install Node.js 20.6 or newer (https://nodejs.org); Amplify Gen 2 needs 18+, "
            "ampbase's loader 20.6+.",
        )
    return version


def _typescript_flags(
    root: Path, files: list[Path], version: tuple[int, int], config: dict[str, Any]
) -> list[str]:
    """Node flags (and exporter settings) that let ``node`` import the TypeScript files."""
    config["transpiler"] = "none"
    if not any(f.suffix in _TS_SUFFIXES for f in files):
        return []
    if _find_package(root, "tsx") is not None:
        return ["--import", "tsx"]
    if version >= (23, 6):
        return []
    if version >= (22, 6):
        return ["--experimental-strip-types", "--disable-warning=ExperimentalWarning"]
    typescript = _find_package(root, "typescript")
    if typescript is not None:
        config["transpiler"] = "typescript"
        config["typescriptPath"] = str(typescript)
        return []
    esbuild = _find_package(root, "esbuild")
    if esbuild is not None:
        config["transpiler"] = "esbuild"
        config["esbuildPath"] = str(esbuild)
        return []
    raise SchemaDefinitionError(
        f"Node.js {version[0]}.{version[1]} cannot run TypeScript by itself and the project has "
        "no TypeScript runner (tsx, typescript or esbuild)",
        source=SourceLocation(str(files[0])),
        hint=f"Run `npm install --save-dev tsx` in {root} (Amplify Gen 2 projects normally have it), "
        "or use Node.js 22.6 or newer.",
    )


def _find_package(root: Path, name: str) -> Path | None:
    """The directory of package ``name`` as Node resolves it from ``root`` (node_modules upwards)."""
    for directory in (root, *root.parents):
        candidate = directory / "node_modules" / name
        if (candidate / "package.json").is_file():
            return candidate
    return None


def _install_command(root: Path) -> str:
    if (root / "package-lock.json").is_file():
        return "npm ci"
    if (root / "pnpm-lock.yaml").is_file():
        return "pnpm install"
    if (root / "yarn.lock").is_file():
        return "yarn install"
    return "npm install"


def _last_json_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def _first_error_line(lines: list[str]) -> str:
    for line in lines:
        if re.search(r"(Error|error)\b", line) and not line.lstrip().startswith("at "):
            return line.strip()
    return lines[-1].strip()


_STACK_FRAME = re.compile(r"(?:^|[\s(])(file://[^\s()]+?|/[^\s()]+?):(\d+):(\d+)", re.MULTILINE)


def _module_error(resource: Path, error: Mapping[str, Any]) -> SchemaDefinitionError:
    message = str(error.get("message") or "the schema module failed to load")
    stack = error.get("stack")
    location = SourceLocation(str(resource))
    if isinstance(stack, str):
        for match in _STACK_FRAME.finditer(stack):
            raw = match.group(1)
            path = unquote(urlparse(raw).path) if raw.startswith("file://") else raw
            if "node_modules" in path or Path(path).parent == _HERE:
                continue
            location = SourceLocation(path, int(match.group(2)), int(match.group(3)))
            break
    return SchemaDefinitionError(
        message,
        source=location,
        hint="amplify/data/resource.ts raised an error while node imported it",
    )


# --------------------------------------------------------------------------- auth modes

_MODE_KEYS = {
    "defaultAuthorizationMode": "default_authorization_mode",
    "apiKeyAuthorizationMode": "api_key_authorization_mode",
    "oidcAuthorizationMode": "oidc_authorization_mode",
    "lambdaAuthorizationMode": "lambda_authorization_mode",
}
_SETTING_KEYS = {
    "expiresInDays": "expires_in_days",
    "description": "description",
    "oidcProviderName": "oidc_provider_name",
    "oidcIssuerUrl": "oidc_issuer_url",
    "clientId": "client_id",
    "tokenExpiryFromAuthInSeconds": "token_expiry_from_auth_in_seconds",
    "tokenExpireFromIssueInSeconds": "token_expire_from_issued_in_seconds",
    "tokenExpireFromIssuedInSeconds": "token_expire_from_issued_in_seconds",
    "function": "function",
    "timeToLiveInSeconds": "time_to_live_in_seconds",
}


def _auth_config(
    modes: Any, resource: Path, handlers_module: Mapping[str, Any], warnings: list[str], used: set[str]
) -> AuthConfig:
    """``defineData({authorizationModes})`` → :class:`AuthConfig`, as ``define_data`` builds it."""
    from ampbase.schema.dsl.data import parse_authorization_modes

    source = SourceLocation(str(resource))
    if modes is None:
        return parse_authorization_modes(None, source=source)
    if not isinstance(modes, Mapping):
        raise SchemaDefinitionError(
            "defineData authorizationModes must be an object", source=source, hint="see defineData"
        )
    converted: dict[str, Any] = {}
    for key, value in modes.items():
        snake = _MODE_KEYS.get(key)
        if snake is None:
            warnings.append(f"defineData authorizationModes.{key} is not used by ampbase")
            continue
        if isinstance(value, Mapping):
            settings: dict[str, Any] = {}
            for sub, sub_value in value.items():
                sub_snake = _SETTING_KEYS.get(sub)
                if sub_snake is None:
                    warnings.append(f"defineData authorizationModes.{key}.{sub} is not used by ampbase")
                    continue
                settings[sub_snake] = sub_value
            if snake == "lambda_authorization_mode":
                settings["function"] = _authorizer(settings.get("function"), handlers_module, warnings, used)
            converted[snake] = settings
        else:
            converted[snake] = value
    return parse_authorization_modes(converted, source=source)


def _authorizer(value: Any, handlers_module: Mapping[str, Any], warnings: list[str], used: set[str]) -> Any:
    name = None
    if isinstance(value, Mapping) and isinstance(value.get("$function"), Mapping):
        name = value["$function"].get("name")
    name = name if isinstance(name, str) and name else "lambdaAuthorizer"
    python = handlers_module.get(name)
    if callable(python):
        used.add(name)
        return python
    warnings.append(
        f"The Lambda authorizer '{name}' (lambdaAuthorizationMode) cannot run locally; "
        f"requests using the lambda mode are rejected unless handlers.py maps '{name}' to a Python function."
    )
    return name


# --------------------------------------------------------------------------- handlers


def _load_handlers(path: Path) -> dict[str, Any]:
    """``amplify/data/handlers.py``'s ``handlers`` mapping (empty when there is no file)."""
    if not path.is_file():
        return {}
    from ampbase.schema.dsl.loader import load_resource_module

    module = load_resource_module(path)
    mapping = getattr(module, "handlers", None)
    if not isinstance(mapping, Mapping):
        raise SchemaDefinitionError(
            f"{path.name} defines no `handlers` mapping",
            source=SourceLocation(str(path)),
            hint='end the file with: handlers = {"FnEcho": echo}  # Gen 2 slot, function or operation name',
        )
    result: dict[str, Any] = {}
    for key, fn in mapping.items():
        if not isinstance(key, str) or not callable(fn):
            raise SchemaDefinitionError(
                f"{path.name}: handlers[{key!r}] must map a name to a callable, got {fn!r}",
                source=SourceLocation(str(path)),
                hint='handlers = {"FnEcho": echo}',
            )
        result[key] = fn
    return result


def _attach_handlers(
    schema: SchemaDef,
    answer: Mapping[str, Any],
    python: Mapping[str, Callable[..., Any]],
    handlers_file: str,
    warnings: list[str],
    used: set[str],
) -> tuple[SchemaDef, tuple[Gen2Handler, ...]]:
    functions = answer.get("lambdaFunctions")
    functions = functions if isinstance(functions, Mapping) else {}
    custom: dict[tuple[str, str], list[str | None]] = {}
    for js in answer.get("jsFunctions") or ():
        if isinstance(js, Mapping):
            entries = js.get("entries")
            field_key = (str(js.get("typeName")), str(js.get("fieldName")))
            custom[field_key] = [e if isinstance(e, str) else None for e in (entries or [None])]
    report: list[Gen2Handler] = []
    operations: list[CustomOperationDef] = []
    for op in schema.operations:
        where = f"{op.kind.value}.{op.name}"
        handlers = list(op.handlers) + [
            HandlerDef("custom") for _ in custom.get((op.kind.value, op.name), ())
        ]
        if not handlers:
            operations.append(op)
            continue
        by_operation = python.get(op.name)
        if by_operation is not None:
            used.add(op.name)
            handlers = [HandlerDef("python", function_name=op.name, callable=by_operation)]
            report.append(Gen2Handler(where, "python", function_name=op.name, runnable=True))
            operations.append(dataclasses.replace(op, handlers=tuple(handlers)))
            continue
        entries = iter(custom.get((op.kind.value, op.name), ()))
        new: list[HandlerDef] = []
        for h in handlers:
            if h.kind == "function":
                slot = h.function_name
                info = functions.get(slot) if slot else None
                fn_name = info.get("name") if isinstance(info, Mapping) else None
                entry = info.get("entry") if isinstance(info, Mapping) else None
                key = next((k for k in (slot, fn_name) if k and k in python), None)
                if key is not None:
                    used.add(key)
                    new.append(dataclasses.replace(h, kind="python", callable=python[key]))
                    report.append(Gen2Handler(where, "python", slot, fn_name, entry, runnable=True))
                    continue
                new.append(h)
                report.append(Gen2Handler(where, "function", slot, fn_name, entry))
                label = (
                    f"the Lambda function '{fn_name}' ({slot})" if fn_name else f"the Lambda function {slot}"
                )
                warnings.append(
                    f"{where} is served by {label}, which ampbase cannot run locally"
                    + _unserved_consequence(op)
                    + f"; add a Python handler to {handlers_file}: "
                    + f'handlers = {{"{slot}": fn}}'
                )
            elif h.kind == "custom":
                entry = next(entries, None)
                new.append(h)
                report.append(Gen2Handler(where, "custom", entry=entry))
                what = f"a custom JS resolver ({entry})" if entry else "a custom JS resolver"
                hint = (
                    ""
                    if op.kind is OperationKind.SUBSCRIPTION
                    else f'; add a Python handler to {handlers_file}: handlers = {{"{op.name}": fn}}'
                )
                warnings.append(
                    f"{where} uses {what}, which ampbase cannot run locally"
                    + _unserved_consequence(op)
                    + hint
                )
            else:
                new.append(h)
        operations.append(dataclasses.replace(op, handlers=tuple(new)))
    unused = sorted(set(python) - used)
    if unused:
        warnings.append(
            f"{HANDLERS_FILE}: no Lambda function slot, function or operation is named "
            + ", ".join(repr(u) for u in unused)
        )
    return dataclasses.replace(schema, operations=tuple(operations)), tuple(report)


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the project root when it is inside it (for messages)."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _unserved_consequence(op: CustomOperationDef) -> str:
    if op.kind is OperationKind.SUBSCRIPTION:
        return " (the subscription still delivers the mutation's results, unfiltered)"
    return " (calls return a HandlerNotFound error)"


# --------------------------------------------------------------------------- sandbox helpers


def prepare_outputs_file(root: Path) -> Path:
    """Where the sandbox writes ``amplify_outputs.json`` for a Gen 2 project: its root.

    A file there that points at the cloud (a deployed sandbox or branch) is first moved to
    ``amplify_outputs.cloud.json`` (an existing backup is never overwritten), to be put back
    by :func:`restore_outputs_file`.
    """
    root = Path(root)
    outputs = root / OUTPUTS
    backup = root / CLOUD_OUTPUTS
    if outputs.is_file() and not _is_local_outputs(outputs):
        if backup.exists():
            outputs.unlink()
        else:
            os.replace(outputs, backup)
    return outputs


def restore_outputs_file(root: Path) -> bool:
    """Put the cloud ``amplify_outputs.json`` back (from ``amplify_outputs.cloud.json``).

    Returns whether a backup was restored; without one the local file is left as it is.
    """
    root = Path(root)
    backup = root / CLOUD_OUTPUTS
    if not backup.is_file():
        return False
    os.replace(backup, root / OUTPUTS)
    return True


def _is_local_outputs(path: Path) -> bool:
    """Whether ``amplify_outputs.json`` is one ampbase wrote (its data URL is a local address)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    url = data.get("data", {}).get("url") if isinstance(data, dict) else None
    if not isinstance(url, str):
        return False
    host = urlparse(url).hostname or ""
    return host in _LOCAL_HOSTS or host.endswith(".localhost")


def watch_paths(root: Path) -> list[Path]:
    """What the sandbox watches in a Gen 2 project: the ``amplify/`` folder."""
    return [Path(root) / "amplify"]


_SOURCE_SUFFIXES = (".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".json", ".py", ".graphql")
_IGNORED_PARTS = {"node_modules", ".amplify", "__pycache__", ".git"}


def is_gen2_source(path: str | Path) -> bool:
    """Whether a change to ``path`` (under ``amplify/``) can change the served API."""
    p = Path(path)
    if _IGNORED_PARTS.intersection(p.parts):
        return False
    return p.suffix in _SOURCE_SUFFIXES and p.name not in (OUTPUTS, CLOUD_OUTPUTS)
