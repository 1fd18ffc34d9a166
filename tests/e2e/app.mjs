// End-to-end test of the built app (dist/) served from a sub-path, in headless
// Chromium over WebDriver (chromedriver's HTTP API; Node's fetch, no packages).
//   node tests/e2e/app.mjs [dist] [out-dir]
// Serves dist/ at /bert/ and the fixture model at /bert/fixture/, then: load, wait
// for `ready`, type, mask a word, predict, read the predictions, switch layer and
// head, check the heatmap has coloured pixels, screenshot. Then the same page
// without WebGPU (navigator.gpu removed) must say so and still predict on the CPU.
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { readFile, mkdir, writeFile, stat } from 'node:fs/promises';
import { join, extname, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const outDir = resolve(process.argv[3] ?? join(root, 'target/e2e'));
// The model served at /bert/fixture/ (E2E_MODEL_DIR: another checkpoint, for scripts/bench_web.sh).
const fixture = resolve(process.env.E2E_MODEL_DIR ?? join(root, 'tests/fixtures/models/gelu-f32'));
const chromedriver = process.env.CHROMEDRIVER ?? '/usr/bin/chromedriver';
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
  '.json': 'application/json', '.txt': 'text/plain', '.md': 'text/plain' };

function fail(msg) { throw new Error(msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A static server that only answers under /bert/, as GitHub Pages serves /<repo>/.
function serve() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (!path.startsWith('/bert/')) { res.writeHead(404).end('outside the sub-path'); return; }
    let rel = path.slice('/bert/'.length) || 'index.html';
    const file = rel.startsWith('fixture/') ? join(fixture, rel.slice('fixture/'.length)) : join(dist, rel);
    try {
      if ((await stat(file)).isDirectory()) throw new Error('dir');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    } catch { res.writeHead(404).end('not found'); }
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

async function startDriver() {
  const port = 9515 + Math.floor(Math.random() * 1000);
  const proc = spawn(chromedriver, [`--port=${port}`], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/status`)).ok) return { proc, base }; } catch {}
    await sleep(100);
  }
  proc.kill(); fail(`chromedriver (${chromedriver}) did not start`);
}

async function call(base, method, path, body) {
  const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await r.json();
  if (!r.ok) fail(`${method} ${path}: ${JSON.stringify(json.value ?? json).slice(0, 400)}`);
  return json.value;
}

class Page {
  constructor(base, id) { this.base = base; this.id = id; }
  static async open(base, { webgpu }) {
    const args = ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1280,2000'];
    if (webgpu) args.push('--enable-unsafe-webgpu');
    const v = await call(base, 'POST', '/session', { capabilities: { alwaysMatch: {
      browserName: 'chrome', 'goog:chromeOptions': { binary: chromium, args } } } });
    return new Page(base, v.sessionId);
  }
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

// The predictions the page shows: [{position, id, token, text}].
const READ_PREDICTIONS = `return [...document.querySelectorAll('[data-testid="prediction"]')].map(e => ({
  position: +e.dataset.maskPosition, id: +e.dataset.tokenId, token: e.dataset.token, text: e.textContent }));`;
const HEATMAP_PIXELS = `const c = document.querySelector('[data-testid="heatmap"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200) n++; return n;`;
const CHART_PIXELS = `const c = document.querySelector('[data-testid="loss-chart"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i + 2] > d[i] + 40) n++; return n;`;
const HEATMAP_HASH = `const c = document.querySelector('[data-testid="heatmap"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0;
  for (let i = 0; i < d.length; i += 1) h = (h * 31 + d[i]) >>> 0; return h;`;

async function mainFlow(page, url, expectBackend) {
  await page.go(url);
  await page.waitReady();
  // Navigation start to the model's first `ready`, as the page measured it.
  const readyMs = await page.js(`return +document.querySelector('[data-testid="status"]').dataset.readyMs`);
  const runs = () => page.js(`return +(document.getElementById('timing').dataset.runs || 0)`);
  // The page predicts once by itself when the model is ready: the first run, with
  // the GPU kernels compiled.
  await page.waitFor('the first prediction', async () => (await runs()) >= 1);
  const firstMs = await page.js(`return +document.getElementById('timing').dataset.ms`);
  const backend = await page.text('backend');
  if (backend !== expectBackend) fail(`backend shows ${backend}, expected ${expectBackend}`);

  const input = await page.find('text-input');
  await page.clear(input);
  await page.type(input, 'the cat sat on the mat.');
  const tokens = await page.waitFor('the typed sentence as tokens', () => page.js(
    `const t = [...document.querySelectorAll('[data-testid="token"]')].map(e => e.textContent);
     return t.includes('sat') && !t.includes('[MASK]') ? t : null;`));
  // The last word before the full stop (the fixture's tiny vocabulary splits "mat").
  const index = tokens.length - 3;
  const chip = Object.values(await call(page.base, 'POST', page.s('/element'),
    { using: 'css selector', value: `[data-testid="token"][data-index="${index}"]` }))[0];
  await page.click(chip);
  const masked = await page.js(`return document.querySelector('[data-testid="token"][data-index="${index}"]').textContent`);
  if (masked !== '[MASK]') fail(`clicking the chip should mask it, it shows ${masked}`);

  const topk = await page.find('topk-input');
  await page.clear(topk);
  await page.type(topk, '4');
  const predictOnce = async () => {
    const before = await runs();
    await page.click(await page.find('predict-button'));
    await page.waitFor('a prediction run', async () => (await runs()) > before);
    return page.js(`return +document.getElementById('timing').dataset.ms`);
  };
  await predictOnce();
  const preds = await page.js(READ_PREDICTIONS);
  if (preds.length !== 4 || !preds.every((x) => x.position === index)) {
    fail(`expected 4 predictions for position ${index}: ${JSON.stringify(preds)}`);
  }
  for (const p of preds) if (!/\d+\.\d%/.test(p.text)) fail(`prediction without a probability: ${p.text}`);
  // Warm runs (reported, not asserted: timings belong to benchmarks).
  const warm = [];
  for (let i = 0; i < 3; i++) warm.push(await predictOnce());
  warm.sort((a, b) => a - b);
  const predictMs = `first ${firstMs} ms (at load), warm median ${warm[1]} ms`;

  // Layer and head: switch both, the map must change and have coloured pixels.
  const before = await page.js(HEATMAP_HASH);
  await page.js(`const s = document.querySelector('[data-testid="layer-select"]'); s.value = String(s.options.length - 1);
    s.dispatchEvent(new Event('change')); const h = document.querySelector('[data-testid="head-select"]'); h.value = '1';
    h.dispatchEvent(new Event('change'));`);
  const after = await page.js(HEATMAP_HASH);
  if (after === before) fail('switching layer and head did not redraw the heatmap');
  const pixels = await page.js(HEATMAP_PIXELS);
  if (pixels < 1000) fail(`the heatmap has only ${pixels} coloured pixels`);
  return { readyMs, predictMs, preds, pixels };
}

const server = await serve();
const site = `http://127.0.0.1:${server.address().port}/bert/`;
const driver = await startDriver();
await mkdir(outDir, { recursive: true });
let code = 0;
try {
  const gpu = await Page.open(driver.base, { webgpu: true });
  try {
    const r = await mainFlow(gpu, `${site}?model=fixture/`, 'webgpu');
    await gpu.screenshot(join(outDir, 'app-webgpu.png'));

    console.log(`webgpu: ready in ${r.readyMs} ms, inference ${r.predictMs}, heatmap ${r.pixels} coloured pixels,`,
      `top-4 at the mask: ${r.preds.map((p) => p.token).join(', ')}`);
    // The GPU goes away (as in a driver reset): the page must say so and go on on the CPU.
    if (!(await gpu.js('return window.wasmBindings.loseWebGpuDeviceForTesting()'))) fail('no WebGPU device to lose');
    await sleep(500);
    await gpu.click(await gpu.find('predict-button'));
    await gpu.waitFor('the CPU after the device was lost', async () => {
      const status = await gpu.text('status');
      const backend = await gpu.text('backend');
      const n = await gpu.js(`return document.querySelectorAll('[data-testid="prediction"]').length`);
      return status === 'ready' && backend === 'cpu' && n > 0;
    }, 60000);
    const lost = await gpu.js(`return document.getElementById('fallback-notice').textContent`);
    if (!lost.includes('lost')) fail(`the lost device is not explained: "${lost}"`);
    console.log(`device lost: the page went on on the CPU (${lost})`);
  } finally { await gpu.close(); }

  // No WebGPU at all: navigator.gpu removed before the page's scripts run.
  const cpu = await Page.open(driver.base, { webgpu: true });
  try {
    await cpu.cdp('Page.addScriptToEvaluateOnNewDocument',
      { source: "Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });" });
    const r = await mainFlow(cpu, `${site}?model=fixture/`, 'cpu');
    const notice = await cpu.js(`const e = document.getElementById('fallback-notice'); return e.hidden ? '' : e.textContent;`);
    if (!notice.includes('no WebGPU')) fail(`the fallback is not explained: "${notice}"`);
    await cpu.screenshot(join(outDir, 'app-cpu-fallback.png'));
    console.log(`cpu fallback: ready in ${r.readyMs} ms, inference ${r.predictMs}; notice: ${notice}`);

    // Fine-tune in the tab: the loss chart fills, the predictions change, Download saves files.
    const downloads = join(outDir, 'downloads');
    await mkdir(downloads, { recursive: true });
    await cpu.cdp('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    for (const [id, value] of [['finetune-steps', '25'], ['finetune-lr', '1e-3'], ['finetune-batch', '4']]) {
      const el = await cpu.find(id);
      await cpu.clear(el);
      await cpu.type(el, value);
    }
    const ft = await cpu.find('finetune-text');
    await cpu.clear(ft);
    await cpu.type(ft, 'the cat sat on the public.\nthe cat sat on the public.\nthe cat sat on the public.');
    const chartBefore = await cpu.js(CHART_PIXELS);
    await cpu.click(await cpu.find('finetune-start'));
    await cpu.waitFor('the fine-tuning run to finish', () => cpu.js(
      `return document.getElementById('finetune-stats').dataset.finished === 'true'`), 120000);
    const chartAfter = await cpu.js(CHART_PIXELS);
    if (chartAfter < chartBefore + 100) fail(`the loss chart did not draw its lines (${chartBefore} -> ${chartAfter} blue pixels)`);
    const steps = await cpu.js(`return +document.getElementById('finetune-stats').dataset.steps`);
    if (steps !== 25) fail(`expected 25 fine-tuning steps, saw ${steps}`);
    const progress = await cpu.js(`const p = document.querySelector('[data-testid="finetune-progress"]'); return p.value / p.max`);
    if (progress !== 1) fail(`the progress bar ends at ${progress}`);
    const before = await cpu.js(`return document.getElementById('predictions-before').textContent`);
    const after = await cpu.js(`return document.getElementById('predictions-after').textContent`);
    if (!after || after === before) fail(`the predictions did not change: "${before}" vs "${after}"`);
    console.log(`fine-tune: 25 steps; before: ${before.slice(0, 80)} | after: ${after.slice(0, 80)}`);
    await cpu.click(await cpu.find('download-weights'));
    await cpu.waitFor('model.safetensors in the downloads', async () => {
      try { return (await stat(join(downloads, 'model.safetensors'))).size > 1000; } catch { return false; }
    }, 30000);
    console.log(`download: model.safetensors ${(await stat(join(downloads, 'model.safetensors'))).size} bytes`);

    // A model that does not exist: a clear error in the status, no crash.
    await cpu.go(`${site}?model=missing-model/`);
    const status = await cpu.waitFor('an error status', async () => {
      const s = await cpu.text('status');
      return s && s.startsWith('error') ? s : null;
    }, 60000);
    if (!status.includes('404')) fail(`a missing model should say 404: ${status}`);
    console.log(`missing model: ${status}`);
  } finally { await cpu.close(); }
  console.log(`e2e passed; screenshots in ${outDir}`);
} catch (e) {
  console.error(`e2e FAILED: ${e.message}`);
  code = 1;
} finally {
  driver.proc.kill();
  server.close();
}
process.exit(code);
