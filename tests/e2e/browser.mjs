// What the browser tests and benchmarks share: a static server for dist/ under a
// sub-path (as GitHub Pages serves /<repo>/), chromedriver, and a small WebDriver page API
// (chromedriver's HTTP API through Node's fetch; no packages).
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { join, extname, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const chromedriver = process.env.CHROMEDRIVER ?? '/usr/bin/chromedriver';
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
  '.json': 'application/json', '.txt': 'text/plain', '.md': 'text/plain' };

export function fail(msg) { throw new Error(msg); }
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A static server that only answers under /bert/, as GitHub Pages serves /<repo>/: dist/ there,
// the model directory `model` at /bert/fixture/, and each of `mounts` ({'name/': dir}) at /bert/name/.
export function serve(dist, model, mounts = {}) {
  const all = { 'fixture/': model, ...mounts };
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (!path.startsWith('/bert/') || path.includes('..')) { res.writeHead(404).end('outside the sub-path'); return; }
    let rel = path.slice('/bert/'.length) || 'index.html';
    const mount = Object.keys(all).find((m) => rel.startsWith(m));
    const file = mount ? join(all[mount], rel.slice(mount.length)) : join(dist, rel);
    try {
      if ((await stat(file)).isDirectory()) throw new Error('dir');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    } catch { res.writeHead(404).end('not found'); }
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

export async function startDriver() {
  const port = 9515 + Math.floor(Math.random() * 1000);
  const proc = spawn(chromedriver, [`--port=${port}`], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/status`)).ok) return { proc, base }; } catch {}
    await sleep(100);
  }
  proc.kill(); fail(`chromedriver (${chromedriver}) did not start`);
}

export async function call(base, method, path, body) {
  const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await r.json();
  if (!r.ok) fail(`${method} ${path}: ${JSON.stringify(json.value ?? json).slice(0, 400)}`);
  return json.value;
}

export class Page {
  constructor(base, id) { this.base = base; this.id = id; }
  /** `webgpu`: the software adapter; `false`: whatever the browser offers; `'none'`: a browser
   *  without WebGPU (no navigator.gpu, in the page and in its workers). `size`: the window
   *  (a phone's [390, 844]; a tall desktop window by default). */
  static async open(base, { webgpu, size = [1280, 2000] }) {
    const args = ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', `--window-size=${size.join(',')}`];
    if (webgpu === 'none') args.push('--disable-blink-features=WebGPU');
    else if (webgpu) args.push('--enable-unsafe-webgpu');
    const v = await call(base, 'POST', '/session', { capabilities: { alwaysMatch: {
      browserName: 'chrome', 'goog:chromeOptions': { binary: chromium, args } } } });
    const page = new Page(base, v.sessionId);
    // The command-line size has a floor above a phone's width; the window can be made smaller.
    await call(base, 'POST', page.s('/window/rect'), { width: size[0], height: size[1] });
    // Benchmarks run long scripts (a bert-base model on the CPU): 30 minutes, not WebDriver's 30 s.
    await call(base, 'POST', page.s('/timeouts'), { script: 1_800_000 });
    // Every main-thread task over 50 ms (the browser's "long task"), for longestTask().
    // …and every Content-Security-Policy violation, for cspViolations().
    await page.cdp('Page.addScriptToEvaluateOnNewDocument', { source: `window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
      window.__longTasks = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push([e.startTime, e.duration]); })
        .observe({ type: 'longtask', buffered: true });` });
    return page;
  }
  /** The page's clock (performance.now()), to mark the start of a measured stretch. */
  now() { return this.js('return performance.now()'); }
  /** The longest main-thread task (ms) that started after `since` (0 if none reached 50 ms). */
  longestTask(since = 0) {
    return this.js(`return Math.round(Math.max(0, ...window.__longTasks.filter(([t]) => t >= ${since}).map(([, d]) => d)))`);
  }
  /** What the page's Content-Security-Policy blocked so far ("directive url" each). */
  cspViolations() { return this.js('return window.__cspViolations'); }
  s(path) { return `/session/${this.id}${path}`; }
  cdp(cmd, params) { return call(this.base, 'POST', this.s('/goog/cdp/execute'), { cmd, params }); }
  go(url) { return call(this.base, 'POST', this.s('/url'), { url }); }
  js(script, ...args) { return call(this.base, 'POST', this.s('/execute/sync'), { script, args }); }
  async find(testid) {
    const v = await call(this.base, 'POST', this.s('/element'), { using: 'css selector', value: `[data-testid="${testid}"]` });
    return Object.values(v)[0];
  }
  click(el) { return call(this.base, 'POST', this.s(`/element/${el}/click`), {}); }
  clear(el) { return call(this.base, 'POST', this.s(`/element/${el}/clear`), {}); }
  type(el, text) { return call(this.base, 'POST', this.s(`/element/${el}/value`), { text }); }
  async text(testid) { return this.js(`const e = document.querySelector('[data-testid="${testid}"]'); return e ? e.textContent : null;`); }
  async waitFor(what, fn, timeoutMs = 120000) {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeoutMs) fail(`timed out waiting for ${what} (status: ${await this.text('status')})`);
      await sleep(250);
    }
  }
  async waitReady() {
    await this.waitFor('status `ready`', async () => {
      const s = await this.text('status');
      if (s && s.startsWith('error')) fail(`the page reports ${s}`);
      return s === 'ready';
    });
  }
  async screenshot(file) {
    const png = await call(this.base, 'GET', this.s('/screenshot'));
    await writeFile(file, Buffer.from(png, 'base64'));
  }
  close() { return call(this.base, 'DELETE', this.s('')); }
}

/** The page has settled on the text on screen: no refresh pending, nothing running. */
export const SETTLED = `return document.getElementById('predictions').dataset.stale !== 'true'
  && document.getElementById('bert-app').dataset.phase === 'idle'`;

/** How many prediction runs the page has finished. */
export const runCount = (page) => page.js(`return +(document.getElementById('timing').dataset.runs || 0)`);

/** Clicks Predict, waits for a run that belongs to the text on screen (the page also
 *  refreshes by itself) and returns its time in ms. */
export async function predictOnce(page, timeoutMs = 120000) {
  const before = await runCount(page);
  await page.click(await page.find('predict-button'));
  await page.waitFor('a prediction run', async () => (await runCount(page)) > before && (await page.js(SETTLED)), timeoutMs);
  return page.js(`return +document.getElementById('timing').dataset.ms`);
}

export /** Fills the fine-tune panel: its numbers and the text to train on. */
async function setFineTune(page, { steps, lr, batch }, text) {
  for (const [id, value] of [['finetune-steps', steps], ['finetune-lr', lr], ['finetune-batch', batch]]) {
    const el = await page.find(id);
    await page.clear(el);
    await page.type(el, value);
  }
  const ft = await page.find('finetune-text');
  await page.clear(ft);
  await page.type(ft, text);
}

/** Waits for the fine-tuning run to end; its stats element's data (finished, steps, …) and text. */
export function fineTuneEnd(page, timeoutMs = 1_800_000) {
  return page.waitFor('the fine-tuning run to end', () => page.js(
    `const e = document.getElementById('finetune-stats'); return e.dataset.finished ? {...e.dataset, text: e.textContent} : null`), timeoutMs);
}

/** A benchmark's frame: serves `dist` (the model at fixture/, `mounts` beside it), starts
 *  chromedriver, runs `body(site, driver)` and says whether it failed; returns the exit code. */
export async function bench(label, dist, model, mounts, body) {
  const server = await serve(dist, model, mounts);
  const site = `http://127.0.0.1:${server.address().port}/bert/`;
  const driver = await startDriver();
  try {
    await body(site, driver);
    return 0;
  } catch (e) {
    console.error(`${label} FAILED: ${e.message}`);
    return 1;
  } finally {
    driver.proc.kill();
    server.close();
  }
}

/** Extracts a downloaded `.zip` (stored entries, as the page writes them) into `dir`, checking
 *  each entry's CRC-32 with Node's own zlib; returns the names. */
export async function unzipTo(zipPath, dir) {
  const { crc32 } = await import('node:zlib');
  const { mkdir } = await import('node:fs/promises');
  const zip = await readFile(zipPath);
  const end = zip.length - 22;
  if (zip.readUInt32LE(end) !== 0x06054b50) fail(`${zipPath}: no end-of-central-directory record`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const names = [];
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) fail(`${zipPath}: entry ${i} is damaged`);
    const [method, crc, size, nameLen, extraLen, commentLen, local] = [zip.readUInt16LE(at + 10), zip.readUInt32LE(at + 16),
      zip.readUInt32LE(at + 24), zip.readUInt16LE(at + 28), zip.readUInt16LE(at + 30), zip.readUInt16LE(at + 32), zip.readUInt32LE(at + 42)];
    const name = zip.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    if (method !== 0 || name.includes('/') || name.includes('..')) fail(`${zipPath}: unexpected entry ${name} (method ${method})`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    if (crc32(data) >>> 0 !== crc) fail(`${zipPath}: ${name} fails its CRC`);
    await writeFile(join(dir, name), data);
    names.push(name);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}
