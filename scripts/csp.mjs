// Trunk post-build hook: puts a Content-Security-Policy into the built index.html. Trunk
// writes the loader as an inline module script whose text names the hashed file names, so
// its hash changes with every build: it is computed here and allowed by hash, never with
// 'unsafe-inline'. Runs wherever trunk builds the page (Node is already needed for wasm-opt).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Trunk stages the page as index.html whatever its source is called.
const file = join(process.env.TRUNK_STAGING_DIR ?? 'dist', 'index.html');
let html = readFileSync(file, 'utf8');
const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
  .map(([, body]) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
const policy = [
  "default-src 'self'",
  // The app's module and its wasm ('wasm-unsafe-eval': compiling WebAssembly), the loader by hash.
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`,
  // The model's worker is a module Blob that imports the app's own script.
  "worker-src 'self' blob:",
  // Checkpoints come from the Hugging Face Hub, its CDN or any URL the user types.
  'connect-src *',
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}">`;
if (html.includes('http-equiv="Content-Security-Policy"')) throw new Error(`${file} already has a CSP`);
html = html.replace(/<meta charset="utf-8">/i, (m) => `${m}\n  ${meta}`);
if (!html.includes(meta)) throw new Error(`no <meta charset="utf-8"> in ${file} to put the CSP after`);
writeFileSync(file, html);
console.log(`csp: ${hashes.length} inline script(s) allowed by hash`);
