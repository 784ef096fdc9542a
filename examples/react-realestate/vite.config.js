// The app reads its backend from amplify_outputs.json, exactly as in the Amplify docs:
// `import outputs from '../amplify_outputs.json'` in src/main.jsx. By default that is the file
// next to this config (write it there with `ampbase sandbox --outputs`). To build against a file
// elsewhere, set AMPLIFY_OUTPUTS=/path/to/amplify_outputs.json when running vite.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = path.dirname(fileURLToPath(import.meta.url));
const outputs = path.resolve(process.env.AMPLIFY_OUTPUTS || path.join(here, 'amplify_outputs.json'));

export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: [{ find: /^\.\.\/amplify_outputs\.json$/, replacement: outputs }],
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
