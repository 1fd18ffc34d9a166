// End-to-end test of the built app (dist/) served from a sub-path, in headless
// Chromium over WebDriver (chromedriver's HTTP API; Node's fetch, no packages).
//   node tests/e2e/app.mjs [dist] [out-dir]
// Serves dist/ at /bert/ and the fixture model at /bert/fixture/, then: load, wait
// for `ready`, type, mask a word, predict, read the predictions, switch layer and
// head, check the heatmap has coloured pixels, screenshot. Then the same page
// without WebGPU (navigator.gpu removed) must say so and still predict on the CPU.
// Last, the embedded model as a new visitor gets it (no ?model=): it loads by itself,
// fills a blank as English does, and a short fine-tune on the page moves a prediction.
// Then the Classify panel (classify.mjs): your own labels on the embedded model, and task
// checkpoints as published. Last, every behaviour of the fixture page again in a phone's
// 390 × 844 window, where the page must never scroll sideways.
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { root, fail, sleep, call, serve, startDriver, Page, setFineTune, unzipTo, SETTLED, runCount, predictOnce } from './browser.mjs';
import { damagedLoadsKeepTheModel, badInputsAreRefused } from './damaged.mjs';
import { classifyFlow, taskCheckpointFlow } from './classify.mjs';
import { FAMILY_MOUNTS, familiesFlow } from './families.mjs';
import { insideTheModel } from './views.mjs';
import { fillingMasks } from './fill.mjs';
import { phoneAndKeyboard, keyboardAndScreenReader, noSidewaysScroll } from './a11y.mjs';
import { textIsTheState } from './text_truth.mjs';

const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const outDir = resolve(process.argv[3] ?? join(root, 'target/e2e'));
// The model served at /bert/fixture/ (E2E_MODEL_DIR: another checkpoint, for scripts/bench_web.sh).
const fixture = resolve(process.env.E2E_MODEL_DIR ?? join(root, 'tests/fixtures/models/gelu-f32'));

// Blanks that the embedded model must fill as English does (its top 5), and what the
// page's default fine-tune (its sample text, steps and rate) must teach it.
const EMBEDDED_BLANKS = [['i do not [MASK] what you mean.', 'know'], ['he shook his [MASK].', 'head']];
const FINE_TUNED = 'london';

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
  // The page predicts once by itself when the model is ready: the first run, with
  // the GPU kernels compiled.
  await page.waitFor('the first prediction', async () => (await runCount(page)) >= 1);
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
  const word = await page.js(`return document.querySelector('[data-testid="token"][data-index="${index}"]').textContent`);
  await page.click(chip);
  // The text is the state: the click writes [MASK] into the text box, the chips follow.
  const masked = await page.waitFor('the chip masked', () => page.js(
    `const c = document.querySelector('[data-testid="token"][data-index="${index}"]'); return c && c.textContent === '[MASK]' ? c.textContent : null`));
  const boxText = await page.js(`return document.querySelector('[data-testid="text-input"]').value`);
  if (masked !== '[MASK]' || !boxText.includes('[MASK]') || boxText.includes(` ${word}.`)) fail(`clicking chip "${word}" should write [MASK] into the text: "${boxText}"`);

  const topk = await page.find('topk-input');
  await page.clear(topk);
  await page.type(topk, '4');
  await predictOnce(page);
  const preds = await page.js(READ_PREDICTIONS);
  if (preds.length !== 4 || !preds.every((x) => x.position === index)) {
    fail(`expected 4 predictions for position ${index}: ${JSON.stringify(preds)}`);
  }
  for (const p of preds) if (!/\d+\.\d%/.test(p.text)) fail(`prediction without a probability: ${p.text}`);
  await insideTheModel(page, JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8')));
  // Warm runs (reported, not asserted: timings belong to benchmarks).
  const warm = [];
  for (let i = 0; i < 3; i++) warm.push(await predictOnce(page));
  warm.sort((a, b) => a - b);
  // The longest main-thread task since the model was ready (reported, not asserted).
  const predictMs = `first ${firstMs} ms (at load), warm median ${warm[1]} ms, longest main-thread task ${await page.longestTask(readyMs)} ms`;

  // Layer and head: switch both, the map must change and have coloured pixels.
  const before = await page.js(HEATMAP_HASH);
  await page.js(`const s = document.querySelector('[data-testid="layer-select"]'); s.value = String(s.options.length - 1);
    s.dispatchEvent(new Event('change')); const h = document.querySelector('[data-testid="head-select"]'); h.value = '1';
    h.dispatchEvent(new Event('change'));`);
  const after = await page.js(HEATMAP_HASH);
  if (after === before) fail('switching layer and head did not redraw the heatmap');
  const pixels = await page.js(HEATMAP_PIXELS);
  if (pixels < 1000) fail(`the heatmap has only ${pixels} coloured pixels`);
  // The page runs under its Content-Security-Policy, and nothing it does is blocked by it.
  const csp = await page.js(`const m = document.querySelector('meta[http-equiv="Content-Security-Policy"]'); return m ? m.content : ''`);
  if (!csp.includes("script-src 'self' 'wasm-unsafe-eval' 'sha256-")) fail(`no Content-Security-Policy on the page: "${csp}"`);
  const blocked = await page.cspViolations();
  if (blocked.length) fail(`the Content-Security-Policy blocked: ${blocked.join('; ')}`);
  return { readyMs, predictMs, preds, pixels };
}

/** The page's examples for its model: a click on the first puts it in the text box, and the
 *  prediction that follows shows it filled in. */
async function firstExample(page) {
  const examples = await page.js(`return [...document.querySelectorAll('[data-testid="example"]')].map(e => e.textContent)`);
  if (examples.length < 3) fail(`the page offers ${examples.length} examples`);
  const before = await runCount(page);
  await page.click(await page.find('example'));
  await page.waitFor('the example predicted', async () => (await runCount(page)) > before && (await page.js(SETTLED)), 60000);
  const text = await page.js(`return document.querySelector('[data-testid="text-input"]').value`);
  const filledIn = await page.js(`const e = document.querySelector('[data-testid="filled-sentence"]'); return e ? e.textContent : ''`);
  if (text !== examples[0] || !filledIn || filledIn.includes('[MASK]')) fail(`example "${examples[0]}": text "${text}", filled "${filledIn}"`);
  return { examples, filledIn };
}

/** What a user does with a loaded model (the fixture, on the CPU), after mainFlow: fine-tune
 *  and download, stop, reset, a crashed worker, bad numbers, Fill all, the keyboard, the text as
 *  the state, the examples, a missing model. `phone`: on a phone's viewport, where after each
 *  step the page must not scroll sideways. */
async function behaviours(cpu, r, { phone }) {
  const fits = async (when) => { if (phone) await noSidewaysScroll(cpu, when); };
  const tag = phone ? 'phone' : 'desktop';
  // Fine-tune in the tab: the loss chart fills, the predictions change, Download saves files.
  const downloads = join(outDir, `downloads-${tag}`);
  await mkdir(downloads, { recursive: true });
  await cpu.cdp('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await setFineTune(cpu, { steps: '25', lr: '1e-3', batch: '4' },
    'the cat sat on the public.\nthe cat sat on the public.\nthe cat sat on the public.');
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
  await fits('with the loss chart drawn');
  console.log(`${tag} fine-tune: 25 steps; before: ${before.slice(0, 80)} | after: ${after.slice(0, 80)}`);
  await cpu.click(await cpu.find('download-weights'));
  const zipped = join(downloads, 'bert-finetuned.zip');
  await cpu.waitFor('the .zip in the downloads', async () => {
    try { return (await stat(zipped)).size > 1000 && !(await readdir(downloads)).some((n) => n.endsWith('.crdownload')); } catch { return false; }
  }, 30000);
  const inZip = await unzipTo(zipped, join(downloads, 'finetuned'));
  for (const f of ['config.json', 'model.safetensors']) if (!inZip.includes(f)) fail(`the download lacks ${f}: ${inZip}`);
  console.log(`${tag} download: one file, ${(await stat(zipped)).size} bytes: ${inZip.join(', ')}`);

  // Stop takes effect within a step; Reset brings back the loaded weights' predictions.
  await setFineTune(cpu, { steps: '5000', lr: '1e-3', batch: '4' }, 'the cat sat on the public.');
  await cpu.click(await cpu.find('finetune-start'));
  await cpu.waitFor('a few steps of the long run', () => cpu.js(
    `return +(document.getElementById('finetune-stats').dataset.steps || 0) >= 3`), 120000);
  // Loading another model meanwhile is refused beside the model box (its weights would be
  // lost), and the run goes on.
  const modelBox = await cpu.find('model-id-input');
  await cpu.clear(modelBox);
  await cpu.type(modelBox, `${site}fixture/`);
  const stepsAtLoad = await cpu.js(`return +document.getElementById('finetune-stats').dataset.steps`);
  await cpu.click(await cpu.find('load-hub-button'));
  const refused = await cpu.waitFor('loading to be refused beside the model box', () => cpu.js(
    `const e = document.getElementById('model-error'); return !e.hidden && /stop the training run/.test(e.textContent) ? e.textContent : null`), 30000);
  await cpu.waitFor('the run to go on', () => cpu.js(
    `return +document.getElementById('finetune-stats').dataset.steps > ${stepsAtLoad}`), 60000);
  await cpu.clear(modelBox);
  await fits('while fine-tuning, with the refusal shown');
  console.log(`${tag} load while fine-tuning: ${refused}`);
  await cpu.click(await cpu.find('finetune-stop'));
  const atStop = await cpu.js(`return +document.getElementById('finetune-stats').dataset.steps`);
  const stopped = await cpu.waitFor('the run to stop', () => cpu.js(
    `const e = document.getElementById('finetune-stats'); return e.dataset.finished === 'true' ? e.textContent : null`), 60000);
  const stoppedAt = await cpu.js(`return +document.getElementById('finetune-stats').dataset.steps`);
  if (!stopped.startsWith('stopped') || stoppedAt > atStop + 1) fail(`Stop at step ${atStop} ended at ${stoppedAt}: ${stopped}`);
  console.log(`${tag} stop: clicked at step ${atStop}, ${stopped}`);
  await cpu.click(await cpu.find('finetune-reset'));
  await cpu.waitFor('the predictions of the loaded weights', async () => {
    const tokens = (await cpu.js(READ_PREDICTIONS)).map((p) => p.token).join(' ');
    return (await cpu.text('status')) === 'ready' && tokens === r.preds.map((p) => p.token).join(' ');
  }, 60000);
  console.log(`${tag} reset: top-4 back to ${r.preds.map((p) => p.token).join(', ')}`);

  // The model's worker dies (a trap, as a bug or running out of memory ends it): the page
  // says what happened, starts a new worker with the same model, and keeps the text.
  const textBox = await cpu.find('text-input');
  await cpu.clear(textBox);
  const typed = 'the cat sat on the [MASK] again.';
  await cpu.type(textBox, typed);
  await predictOnce(cpu);
  const runsBefore = await runCount(cpu);
  if (!(await cpu.js('return window.wasmBindings.crashModelWorkerForTesting()'))) fail('the worker did not crash');
  const crash = await cpu.waitFor('the crash to be explained', () => cpu.js(
    `const e = document.querySelector('[data-testid="worker-notice"]'); return e.hidden ? null : e.textContent`), 30000);
  if (!crash.includes('crashed')) fail(`the crash is not explained: ${crash}`);
  await cpu.waitFor('the model again after the crash', async () =>
    (await cpu.text('status')) === 'ready' && (await runCount(cpu)) > 0 && (await cpu.js(READ_PREDICTIONS)).length > 0, 60000);
  const kept = await cpu.js(`return document.querySelector('[data-testid="text-input"]').value`);
  if (kept !== typed) fail(`the text was lost in the crash: "${kept}"`);
  await fits('after the crash notice');
  console.log(`${tag} worker crash: ${crash}; text kept, predictions back (${runsBefore} runs before)`);

  // Bad numbers and an over-long sentence: a message each, then the page goes on.
  await badInputsAreRefused(cpu);
  await fits('with the error messages shown');
  await fillingMasks(cpu, JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8')).max_position_embeddings);
  await fits('after Fill all and the cut-off mask');
  if (phone) {
    const { index, specials } = await keyboardAndScreenReader(cpu);
    console.log(`phone keyboard: Enter keeps focus on chip ${index}, ${specials} special chips out of the tab order`);
  } else await phoneAndKeyboard(cpu, outDir);
  await textIsTheState(cpu, `${site}?model=fixture/`);
  await cpu.waitReady();
  await fits('with the text as the state');

  // The examples for this model: a click puts one in the box, and the prediction shows it filled in.
  const { examples, filledIn } = await firstExample(cpu);
  await fits('with an example predicted');
  await cpu.screenshot(join(outDir, `app-${tag}-example.png`));
  console.log(`${tag} examples: ${examples.length}; "${examples[0]}" -> "${filledIn}"`);

  // A model that does not exist: the page says so beside the model box (and the message
  // stays), then falls back to the embedded model.
  await cpu.go(`${site}?model=missing-model/`);
  const error = await cpu.waitFor('the inline error', () => cpu.js(
    `const e = document.querySelector('[data-testid="error"]'); return e && !e.hidden && /instead/.test(e.textContent) ? e.textContent : null`), 60000);
  if (!error.includes('404') || !error.includes('missing-model')) fail(`a missing model should say 404: ${error}`);
  await cpu.waitReady();
  const fallback = await cpu.js(`return document.getElementById('model-info').textContent`);
  if (!fallback.includes('embedded model')) fail(`no fall back to the embedded model: ${fallback}`);
  await fits('with the missing model explained');
  console.log(`${tag} missing model: ${error}`);
}

const server = await serve(dist, fixture, {
  'seq-cls/': join(root, 'tests/fixtures/models/seq-cls'),
  'tok-cls/': join(root, 'tests/fixtures/models/tok-cls'),
  ...FAMILY_MOUNTS,
});
const site = `http://127.0.0.1:${server.address().port}/bert/`;
const driver = await startDriver();
await mkdir(outDir, { recursive: true });
let code = 0;
try {
  const gpu = await Page.open(driver.base, { webgpu: true });
  try {
    // Headless Chromium's adapter is SwiftShader, which the page passes over by default.
    await gpu.go(`${site}?model=fixture/`);
    await gpu.waitReady();
    const passedOver = await gpu.js(`return document.getElementById('fallback-notice').textContent`);
    if ((await gpu.text('backend')) !== 'cpu' || !passedOver.includes('software')) fail(`a software adapter should be passed over: ${passedOver}`);
    console.log(`default on a software adapter: ${passedOver}`);
    const r = await mainFlow(gpu, `${site}?model=fixture/&backend=webgpu`, 'webgpu');
    await gpu.screenshot(join(outDir, 'app-webgpu.png'));

    console.log(`webgpu: ready in ${r.readyMs} ms, inference ${r.predictMs}, heatmap ${r.pixels} coloured pixels,`,
      `top-4 at the mask: ${r.preds.map((p) => p.token).join(', ')}`);
    // The GPU goes away (as in a driver reset) in the middle of a fine-tuning run: the run
    // must end with a message, and the page go on on the CPU with the loaded weights.
    await setFineTune(gpu, { steps: '500', lr: '1e-3', batch: '4' }, 'the cat sat on the public.');
    await gpu.click(await gpu.find('finetune-start'));
    await gpu.waitFor('two fine-tuning steps on WebGPU', () => gpu.js(
      `return +(document.getElementById('finetune-stats').dataset.steps || 0) >= 2`), 120000);
    if (!(await gpu.js('return window.wasmBindings.loseWebGpuDeviceForTesting()'))) fail('no WebGPU device to lose');
    const ended = await gpu.waitFor('the fine-tuning run to end on the lost device', () => gpu.js(
      `const e = document.getElementById('finetune-stats'); return e.dataset.finished === 'lost' ? e.textContent : null`), 60000);
    console.log(`device lost while fine-tuning: ${ended}`);
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

  // No WebGPU at all: a browser without navigator.gpu, in the page and in its workers.
  const cpu = await Page.open(driver.base, { webgpu: 'none' });
  try {
    if (await cpu.js('return "gpu" in navigator')) fail('the browser was started without WebGPU, yet navigator.gpu is there');
    const r = await mainFlow(cpu, `${site}?model=fixture/`, 'cpu');
    const notice = await cpu.js(`const e = document.getElementById('fallback-notice'); return e.hidden ? '' : e.textContent;`);
    // The page has no navigator.gpu; its worker (where the model runs) finds no adapter.
    if (!/no WebGPU|no adapter/.test(notice)) fail(`the fallback is not explained: "${notice}"`);
    await cpu.screenshot(join(outDir, 'app-cpu-fallback.png'));
    console.log(`cpu fallback: ready in ${r.readyMs} ms, inference ${r.predictMs}; notice: ${notice}`);

    // Damaged files through the file picker, and a missing folder: errors that say why, and
    // the loaded model stays.
    await damagedLoadsKeepTheModel(cpu, site, fixture, outDir);

    await behaviours(cpu, r, { phone: false });
  } finally { await cpu.close(); }
  // The embedded model (dist/assets/), as a new visitor meets it: no ?model=, the default backend.
  const config = JSON.parse(await readFile(join(dist, 'assets/config.json'), 'utf8').catch(() =>
    fail('dist/assets/config.json is missing: the build ships no embedded model')));
  const emb = await Page.open(driver.base, { webgpu: true });
  try {
    await emb.go(site);
    await emb.waitReady();
    const info = await emb.js(`return document.getElementById('model-info').textContent`);
    const shape = `${config.num_hidden_layers} layers, hidden size ${config.hidden_size}`;
    if (!info.includes(shape)) fail(`the page did not load the embedded model (${shape}): ${info}`);
    const topAt = async (text) => {
      const input = await emb.find('text-input');
      await emb.clear(input);
      await emb.type(input, text);
      await predictOnce(emb);
      return (await emb.js(READ_PREDICTIONS)).map((p) => p.token);
    };
    // Blanks that any model of English fills, the embedded one among its top 5.
    for (const [text, want] of EMBEDDED_BLANKS) {
      const top = await topAt(text);
      if (!top.slice(0, 5).includes(want)) fail(`embedded model: "${text}" should have "${want}" in its top 5, got ${top.join(', ')}`);
      console.log(`embedded model: "${text}" -> ${top.join(', ')}`);
    }
    // The fine-tune panel's defaults, as a new visitor finds them (an odd fact about France):
    // the loss falls and the mask in the default sentence moves to the fact.
    await emb.go(site);
    await emb.waitReady();
    // The page's examples are blanks the embedded model fills right (measured, and checked here).
    const { examples, filledIn } = await firstExample(emb);
    console.log(`first visit: ${examples.length} examples; "${examples[0]}" -> "${filledIn}"`);
    // The fine-tune sample teaches an odd fact about France: ask about it.
    const box = await emb.find('text-input');
    await emb.clear(box);
    await emb.type(box, 'The capital of France is [MASK].');
    await emb.click(await emb.find('finetune-start'));
    const done = await emb.waitFor('the fine-tuning run on the embedded model', () => emb.js(
      `const e = document.getElementById('finetune-stats'); return e.dataset.finished === 'true' ? e.textContent : null`), 300000);
    const losses = (await emb.js(`return document.getElementById('finetune-stats').dataset.losses`)).split(',').map(Number);
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    if (!(mean(losses.slice(-3)) < mean(losses.slice(0, 3)))) fail(`the loss did not fall: ${losses.join(', ')}`);
    const before = await emb.js(`return document.getElementById('predictions-before').textContent`);
    const after = await emb.js(`return document.getElementById('predictions-after').textContent`);
    const top1 = (t) => (t.match(/position \d+: (\S+)/) || [])[1];
    if (top1(before) === FINE_TUNED || top1(after) !== FINE_TUNED) {
      fail(`fine-tuning should move the first mask to "${FINE_TUNED}": before ${before} | after ${after}`);
    }
    await emb.screenshot(join(outDir, 'app-embedded.png'));
    console.log(`embedded model fine-tuned: ${done}; before: ${before.slice(0, 90)} | after: ${after.slice(0, 90)}`);
  } finally { await emb.close(); }
  // Your own labels on the embedded model, on the CPU fallback (a browser without WebGPU);
  // then task checkpoints as published (sequence and token classification).
  const cls = await Page.open(driver.base, { webgpu: 'none' });
  try {
    await classifyFlow(cls, site, outDir, config.num_hidden_layers);
    await taskCheckpointFlow(cls, site, 'seq-cls', 'the service was quick and friendly.');
    await taskCheckpointFlow(cls, site, 'tok-cls', 'Ada Lovelace lived in London.');
    // The BERT family beyond `bert`: RoBERTa, XLM-RoBERTa (by file), ALBERT.
    await familiesFlow(cls, site);
  } finally { await cls.close(); }
  // Every behaviour again on a phone (390 × 844, no WebGPU), the page never wider than the screen.
  const phone = await Page.open(driver.base, { webgpu: 'none', size: [390, 844] });
  try {
    await phone.go(`${site}?model=fixture/`);
    await phone.waitFor('a phone-sized window', () => phone.js('return window.innerWidth <= 390'), 10000);
    const r = await mainFlow(phone, `${site}?model=fixture/`, 'cpu');
    await noSidewaysScroll(phone, 'on a phone with the model view and heatmap drawn');
    await phone.screenshot(join(outDir, 'app-phone-predicted.png'));
    console.log(`phone: predicted (top-4 ${r.preds.map((p) => p.token).join(', ')}), the model view drawn`);
    await behaviours(phone, r, { phone: true });
  } finally { await phone.close(); }
  console.log(`e2e passed; screenshots in ${outDir}`);
} catch (e) {
  console.error(`e2e FAILED: ${e.message}`);
  code = 1;
} finally {
  driver.proc.kill();
  server.close();
}
process.exit(code);
