// node_wasi_run.mjs — run a wasm32-wasi command module under node's V8
// with node:wasi, for the side-by-side benchmark:
//
//   node [--no-liftoff] node_wasi_run.mjs app.wasm [ARGS...]
//
// stdout/stderr are the process's own; the exit status is the guest's
// proc_exit code (a trap exits 134 after printing "wasm trap: ...").
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node node_wasi_run.mjs app.wasm [ARGS...]\n');
  process.exit(1);
}
const wasi = new WASI({
  version: 'preview1',
  args: [basename(file), ...args],
  env: {},
  returnOnExit: true,
});
let code;
try {
  const module = await WebAssembly.compile(readFileSync(file));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  code = wasi.start(instance);
} catch (e) {
  process.stderr.write(`wasm trap: ${e.message}\n`);
  code = 134;
}
process.exitCode = code;
