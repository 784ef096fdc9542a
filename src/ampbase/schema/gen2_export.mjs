// ampbase: export an Amplify Gen 2 data definition (amplify/data/resource.ts) as JSON.
//
//   node [--import tsx] gen2_export.mjs CONFIG_JSON
//
// CONFIG_JSON: {"project": "/abs/root", "files": ["/abs/.../resource.ts", ...],
//   "transpiler": "none" | "typescript" | "esbuild", "typescriptPath": "...", "esbuildPath": "...",
//   "useShim": false}
// Writes one line of JSON to stdout: {"results": [...]}, one entry per file, each either
//   {"file", "sdl", "dataProps": {"name", "authorizationModes"}, "lambdaFunctions": {"FnEcho": {...}},
//    "jsFunctions": [{"typeName", "fieldName", "entries"}], "functionSlots": n, "sqlStrategies": n}
// or {"file", "error": {"message", "stack"}}. The schema is what `schema.transform()` of
// @aws-amplify/data-schema emits: the SDL Amplify Gen 2 gives the GraphQL transformer.
import path from 'node:path';
import Module, { createRequire, register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const here = path.dirname(fileURLToPath(import.meta.url));

// The user's module may print; keep stdout for the JSON answer.
const toStderr = (...args) => process.stderr.write(args.map(String).join(' ') + '\n');
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;

register(pathToFileURL(path.join(here, 'gen2_hooks.mjs')).href, {
  parentURL: import.meta.url,
  data: {
    projectURL: pathToFileURL(path.join(config.project, 'package.json')).href,
    shimURL: pathToFileURL(path.join(here, 'gen2_backend_shim.mjs')).href,
    useShim: Boolean(config.useShim),
    transpiler: config.transpiler ?? 'none',
    typescriptPath: config.typescriptPath,
    esbuildPath: config.esbuildPath,
  },
});

// CommonJS-scoped resource files (compiled to require() by tsx) bypass the ESM hooks above.
if (config.useShim) {
  const shim = path.join(here, 'gen2_backend_shim.cjs');
  const projectRequire = createRequire(path.join(config.project, 'package.json'));
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    if (request === '@aws-amplify/backend') return shim;
    if (parent?.filename === shim) return projectRequire.resolve(request);
    return resolveFilename.call(this, request, parent, ...rest);
  };
}

const isObject = (v) => v !== null && typeof v === 'object';
const isSchema = (v) => isObject(v) && typeof v.transform === 'function';
const isCombined = (v) => isObject(v) && Array.isArray(v.schemas) && v.schemas.length > 0 && v.schemas.every(isSchema);
const isSchemaLike = (v) => isSchema(v) || isCombined(v) || typeof v === 'string';
const isDataFactory = (v) => isObject(v) && isObject(v.props) && isSchemaLike(v.props.schema);
const isFunctionFactory = (v) => isObject(v) && typeof v.getInstance === 'function';

const functionName = (fn) => {
  try {
    if (typeof fn.resolveName === 'function') {
      const name = fn.resolveName();
      if (name) return name;
    }
  } catch {
    // the real factory reads the caller's stack; fall through to the declared props
  }
  return fn.props?.name ?? null;
};

const describeFunction = (fn) => ({
  name: functionName(fn),
  entry: typeof fn.props?.entry === 'string' ? fn.props.entry : null,
});

// JSON with function factories replaced by {"$function": {...}} and secrets by {"$secret": name}.
const plain = (value) =>
  JSON.parse(
    JSON.stringify(value ?? null, (key, v) => {
      if (isFunctionFactory(v)) return { $function: describeFunction(v) };
      if (isObject(v) && v.ampbaseKind === 'secret') return { $secret: v.name };
      if (typeof v === 'function') return undefined;
      return v;
    }),
  );

const findData = (mod) => {
  if (isDataFactory(mod.data)) return mod.data;
  for (const v of Object.values(mod)) if (isDataFactory(v)) return v;
  return undefined;
};

const findSchema = (mod) => {
  for (const v of [mod.schema, mod.default]) if (isSchema(v) || isCombined(v)) return v;
  for (const v of Object.values(mod)) if (isSchema(v) || isCombined(v)) return v;
  return undefined;
};

const transformSchema = (schema) => {
  if (typeof schema === 'string') {
    return { sdl: schema, lambdaFunctions: {}, jsFunctions: [], functionSlots: [], customSqlDataSourceStrategies: [] };
  }
  const parts = isCombined(schema) ? schema.schemas : [schema];
  const out = { sdl: '', lambdaFunctions: {}, jsFunctions: [], functionSlots: [], customSqlDataSourceStrategies: [] };
  for (const part of parts) {
    const t = part.transform();
    out.sdl += (out.sdl ? '\n' : '') + t.schema;
    Object.assign(out.lambdaFunctions, t.lambdaFunctions ?? {});
    out.jsFunctions.push(...(t.jsFunctions ?? []));
    out.functionSlots.push(...(t.functionSlots ?? []));
    out.customSqlDataSourceStrategies.push(...(t.customSqlDataSourceStrategies ?? []));
  }
  return out;
};

const entryOf = (handler) => {
  const entry = handler?.entry;
  if (typeof entry === 'string') return entry;
  if (isObject(entry)) return entry.relativePath ?? entry.path ?? null;
  return null;
};

const exportFile = async (file) => {
  const mod = await import(pathToFileURL(file).href);
  const data = findData(mod);
  const schema = data ? data.props.schema : findSchema(mod);
  if (!isSchemaLike(schema)) {
    throw new Error(
      'no data schema found: export `data = defineData({ schema })` (or `schema = a.schema({...})`) from ' +
        path.basename(file),
    );
  }
  // @aws-amplify/backend allows one defineData per process; several files are exported here.
  if (data && data.constructor && typeof data.constructor.factoryCount === 'number') data.constructor.factoryCount = 0;
  const t = transformSchema(schema);
  const lambdaFunctions = {};
  for (const [slot, fn] of Object.entries(t.lambdaFunctions)) {
    lambdaFunctions[slot] = isFunctionFactory(fn) ? describeFunction(fn) : { name: typeof fn === 'string' ? fn : null, entry: null };
  }
  return {
    file,
    sdl: t.sdl.endsWith('\n') ? t.sdl : t.sdl + '\n',
    hasDefineData: Boolean(data),
    dataProps: data ? plain({ name: data.props.name ?? null, authorizationModes: data.props.authorizationModes ?? null }) : null,
    lambdaFunctions,
    jsFunctions: t.jsFunctions.map((f) => ({
      typeName: f.typeName,
      fieldName: f.fieldName,
      entries: (f.handlers ?? []).map(entryOf),
    })),
    functionSlots: t.functionSlots.length,
    sqlStrategies: t.customSqlDataSourceStrategies.length,
  };
};

const results = [];
for (const file of config.files ?? []) {
  try {
    results.push(await exportFile(file));
  } catch (error) {
    results.push({
      file,
      error: { message: String(error?.message ?? error), stack: typeof error?.stack === 'string' ? error.stack : null },
    });
  }
}
process.stdout.write(JSON.stringify({ results }) + '\n');
