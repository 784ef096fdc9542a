// Module loader hooks for gen2_export.mjs (ampbase): run in Node's loader thread.
//
// * `@aws-amplify/backend` → ampbase's stand-in (gen2_backend_shim.mjs) when the project
//   does not have the package installed; bare imports made by the stand-in resolve from
//   the project root, so it shares the project's `@aws-amplify/data-schema`.
// * Extensionless / `.js` relative imports of TypeScript sources (`./resource`,
//   `./handler.js` for `handler.ts`) resolve to the `.ts` file, as TypeScript resolves them.
// * With `transpiler: "typescript" | "esbuild"`, `.ts`/`.mts`/`.tsx` files outside
//   node_modules are transpiled to JavaScript (types erased, no type checking).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

let config = { projectURL: undefined, shimURL: undefined, useShim: false, transpiler: 'none' };
let transpile;

export async function initialize(data) {
  config = { ...config, ...data };
  if (config.transpiler === 'typescript') {
    const ts = createRequire(config.projectURL)(config.typescriptPath);
    transpile = (source, file) =>
      ts.transpileModule(source, {
        fileName: file,
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          jsx: ts.JsxEmit.ReactJSX,
          sourceMap: false,
          inlineSourceMap: true,
        },
      }).outputText;
  } else if (config.transpiler === 'esbuild') {
    const esbuild = createRequire(config.projectURL)(config.esbuildPath);
    transpile = (source, file) =>
      esbuild.transformSync(source, {
        loader: file.endsWith('.tsx') ? 'tsx' : 'ts',
        format: 'esm',
        target: 'es2022',
        sourcefile: file,
        sourcemap: 'inline',
      }).code;
  }
}

const TS_FILE = /\.(m|c)?tsx?$/;
const CANDIDATES = ['.ts', '.tsx', '.mts', '.js', '.mjs', '/index.ts', '/index.tsx', '/index.mts', '/index.js', '/index.mjs'];

const isFile = (url) => {
  try {
    return fs.statSync(fileURLToPath(url)).isFile();
  } catch {
    return false;
  }
};

const isRelative = (specifier) =>
  specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file:');

export async function resolve(specifier, context, nextResolve) {
  if (config.useShim && specifier === '@aws-amplify/backend') {
    return { url: config.shimURL, format: 'module', shortCircuit: true };
  }
  if (context.parentURL === config.shimURL && !isRelative(specifier) && !specifier.startsWith('node:')) {
    return nextResolve(specifier, { ...context, parentURL: config.projectURL });
  }
  if (!isRelative(specifier) || !context.parentURL || !context.parentURL.startsWith('file:')) {
    return nextResolve(specifier, context);
  }
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' && error?.code !== 'ERR_UNSUPPORTED_DIR_IMPORT') throw error;
    const base = new URL(specifier, context.parentURL).href;
    const stem = base.replace(/\.(m|c)?js$/, '');
    const tries = stem !== base ? [stem + '.ts', stem + '.mts', stem + '.tsx'] : CANDIDATES.map((c) => base + c);
    for (const url of tries) {
      if (isFile(url)) return { url, shortCircuit: true };
    }
    throw error;
  }
}

export async function load(url, context, nextLoad) {
  if (transpile && url.startsWith('file:') && TS_FILE.test(new URL(url).pathname) && !url.includes('/node_modules/')) {
    const file = fileURLToPath(url);
    const source = transpile(fs.readFileSync(file, 'utf8'), file);
    return { format: 'module', source, shortCircuit: true };
  }
  return nextLoad(url, context);
}
