// diff_node.mjs — the reference side of the differential test: V8 (node)
// runs one module and prints the same transcript as wedge_diff.c (see the
// format there).  Usage: node diff_node.mjs module.wasm
import { readFileSync } from 'node:fs';

const out = [];
const put = (s) => out.push(s);

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);
const hex = (v, w) => '0x' + v.toString(16).padStart(w, '0');
const fmtF32 = (v) => { if (Number.isNaN(v)) return 'nan'; f32[0] = v; return hex(u32[0], 8); };
const fmtF64 = (v) => { if (Number.isNaN(v)) return 'nan'; f64[0] = v; return hex(u64[0], 16); };
const fmtI32 = (v) => String(v >>> 0);
const fmtI64 = (v) => String(BigInt.asUintN(64, BigInt(v)));

const imports = {
  'fuzzing-support': {
    'log-i32': (v) => put('log-i32 ' + fmtI32(v)),
    'log-i64': (v) => put('log-i64 ' + fmtI64(v)),
    'log-f32': (v) => put('log-f32 ' + fmtF32(v)),
    'log-f64': (v) => put('log-f64 ' + fmtF64(v)),
    // Never reached: V8 throws a TypeError on the way in (v128 is not a JS type).
    'log-v128': () => put('log-v128'),
  },
};

// Same fixed arguments as wd_arg() in wedge_diff.c.
function arg(t, j) {
  switch (t) {
    case 'i32': return ((j + 1) * 0x10001) | 0;
    case 'i64': return BigInt.asIntN(64, BigInt(j + 1) * 0x100000001n);
    case 'f32': return Math.fround((j + 1) * 1.5);
    case 'f64': return (j + 1) * 2.25;
    default: return null;
  }
}

function fmtResult(t, v) {
  switch (t) {
    case 'i32': return 'ret i32 ' + fmtI32(v);
    case 'i64': return 'ret i64 ' + fmtI64(v);
    case 'f32': return 'ret f32 ' + fmtF32(v);
    case 'f64': return 'ret f64 ' + fmtF64(v);
    default: return 'ret ref ' + (v === null ? 'null' : 'nonnull');
  }
}

function memLine(mem) {
  if (!mem) return 'mem none';
  const b = new Uint8Array(mem.buffer);
  let h = 2166136261;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 16777619) >>> 0;
  return 'mem ' + (b.length / 65536) + ' ' + h.toString(16).padStart(8, '0');
}

// The signature of each exported function, read from the binary (the JS
// API does not expose types).
function readSigs(bytes) {
  let p = 8;
  const leb = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
  const vt = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x70: 'funcref', 0x6f: 'externref', 0x7b: 'v128' };
  const types = [], funcTypes = [], exports = [];
  while (p < bytes.length) {
    const id = bytes[p++], size = leb(), end = p + size;
    if (id === 1) {
      for (let n = leb(); n > 0; n--) {
        p++; // 0x60
        const params = []; for (let k = leb(); k > 0; k--) params.push(vt[bytes[p++]]);
        const results = []; for (let k = leb(); k > 0; k--) results.push(vt[bytes[p++]]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        { const a = leb(); p += a; } { const b = leb(); p += b; }
        const kind = bytes[p++];
        if (kind === 0) funcTypes.push(leb());
        else if (kind === 1) { p++; const f = bytes[p++]; leb(); if (f & 1) leb(); }
        else if (kind === 2) { const f = bytes[p++]; leb(); if (f & 1) leb(); }
        else if (kind === 3) p += 2;
      }
    } else if (id === 3) {
      for (let n = leb(); n > 0; n--) funcTypes.push(leb());
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const len = leb(); const name = new TextDecoder().decode(bytes.subarray(p, p + len)); p += len;
        const kind = bytes[p++], idx = leb();
        exports.push({ name, kind, idx });
      }
    }
    p = end;
  }
  const sigs = new Map();
  for (const e of exports) if (e.kind === 0) sigs.set(e.name, types[funcTypes[e.idx]]);
  return { exports, sigs };
}

function trapText(e) {
  if (e instanceof WebAssembly.RuntimeError) return e.message;
  if (e instanceof RangeError && /call stack/.test(e.message)) return 'call stack exhausted';
  return 'host-error ' + String(e && e.message || e);
}

const bytes = new Uint8Array(readFileSync(process.argv[2]));
const { exports: exps, sigs } = readSigs(bytes);
let instance;
try {
  instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
  put('instantiate ok');
} catch (e) {
  put('instantiate trap ' + trapText(e));
}
if (instance) {
  const ex = instance.exports;
  const mem = Object.values(ex).find((v) => v instanceof WebAssembly.Memory);
  const hang = sigs.has('hangLimitInitializer') ? ex.hangLimitInitializer : null;
  for (const e of exps) {
    if (e.kind !== 0 || e.name === 'hangLimitInitializer') continue;
    if (hang) { try { hang(); } catch (err) { put('trap ' + trapText(err)); } }
    const sig = sigs.get(e.name);
    put('call ' + e.name);
    // JS cannot pass or receive a v128: such exports are skipped on both sides.
    if (sig.params.includes('v128') || sig.results.includes('v128')) {
      put('skip v128');
      continue;
    }
    try {
      const r = ex[e.name](...sig.params.map((t, j) => arg(t, j)));
      if (sig.results.length === 1) put(fmtResult(sig.results[0], r));
      else if (sig.results.length > 1) sig.results.forEach((t, k) => put(fmtResult(t, r[k])));
    } catch (err) {
      put('trap ' + trapText(err));
    }
    put(memLine(mem));
  }
}
put('end');
process.stdout.write(out.join('\n') + '\n');
