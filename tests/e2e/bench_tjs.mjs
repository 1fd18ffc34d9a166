// Benchmark (not a test): this page's JavaScript API beside transformers.js `fill-mask` on the
// same weights, in one headless Chromium, same texts (about 9 and exactly 128 tokens), warm
// medians; then the app itself with the model, for the longest main-thread task while
// predicting, filling, drawing attention and fine-tuning.
//   node tests/e2e/bench_tjs.mjs DIST TJS_NODE_MODULES NAME=MODEL_DIR[:webgpu] ...
// Each MODEL_DIR holds both layouts (scripts/export_onnx.py). `:webgpu` adds the WebGPU rows.
import { join, resolve } from 'node:path';
import { fail, bench, fineTuneEnd, Page, setFineTune } from './browser.mjs';

const [distArg, modulesArg, ...specs] = process.argv.slice(2);
if (!distArg || !modulesArg || specs.length === 0) fail('usage: bench_tjs.mjs DIST TJS_NODE_MODULES NAME=MODEL_DIR[:webgpu] ...');
const models = specs.map((s) => {
  const [name, rest] = s.split('=');
  const [dir, flag] = rest.split(':');
  return { name, dir: resolve(dir), webgpu: flag === 'webgpu' };
});
const modules = resolve(modulesArg);
const mounts = { 'tjs/': join(modules, '@huggingface/transformers/dist'), 'ort/': join(modules, 'onnxruntime-web/dist') };
for (const m of models) mounts[`models/${m.name}/`] = m.dir;
const ITERS = +(process.env.BENCH_ITERS ?? 10);
const SHORT = 'the capital of france is [MASK].';


// Runs in the page: loads our model through the JavaScript API, finds a text of exactly 128
// tokens, and times tokenize + analyze (top-5 at the mask, every attention map).
const OURS = `const [name, backend, iters, short] = arguments;
  const get = async (f) => new Uint8Array(await (await fetch('models/' + name + '/' + f)).arrayBuffer());
  const config = await (await fetch('models/' + name + '/config.json')).text();
  const m = await window.wasmBindings.BertModel.load(config, await get('model.safetensors'), await get('tokenizer.json'), false, backend);
  let long = short.replace('[MASK].', '');
  const words = 'the old man walked along the river and watched the boats go by in the evening light'.split(' ');
  for (let i = 0; (await m.tokenize(long + ' [MASK].')).ids.length < 128; i++) long += ' ' + words[i % words.length];
  long += ' [MASK].';
  // Long tasks are counted from here: loading copies the caller's weights into the worker.
  const out = { backend: m.backend().kind, loadedAt: performance.now() };
  for (const [label, text] of [['short', short], ['long', long]]) {
    const times = [];
    let tokens = 0, top = '', kernels = 0, reads = 0, names = [];
    for (let i = 0; i < iters + 1; i++) {
      const t0 = performance.now();
      const enc = await m.tokenize(text);
      const a = await m.analyze(enc.ids, enc.type_ids, 5);
      times.push(performance.now() - t0);
      tokens = enc.ids.length; top = a.masks[0].predictions[0].token; kernels = a.kernels; reads = a.reads; names = a.kernel_names;
      if (!(a.attentions instanceof Float32Array) || a.attentions.length !== a.layers * a.heads * tokens * tokens) throw new Error('no attention maps');
    }
    const warm = times.slice(1).sort((x, y) => x - y);
    out[label] = { tokens, first: times[0], median: warm[warm.length >> 1], top, text, kernels, reads, names };
  }
  m.free();
  return out;`;

// The same in transformers.js: fill-mask on the ONNX export, top 5.
const THEIRS = `const [name, device, iters, texts] = arguments;
  const { pipeline, env } = await import('./tjs/transformers.min.js');
  env.allowRemoteModels = false; env.allowLocalModels = true; env.localModelPath = new URL('models/', location.href).pathname;
  env.useBrowserCache = false; env.backends.onnx.wasm.wasmPaths = new URL('ort/', location.href).href;
  const unmask = await pipeline('fill-mask', name, { device, dtype: 'fp32' });
  const out = { device };
  for (const [label, text] of texts) {
    const times = [];
    let top = '';
    for (let i = 0; i < iters + 1; i++) {
      const t0 = performance.now();
      const r = await unmask(text, { top_k: 5 });
      times.push(performance.now() - t0);
      top = r[0].token_str;
    }
    const warm = times.slice(1).sort((x, y) => x - y);
    out[label] = { first: times[0], median: warm[warm.length >> 1], top };
  }
  await unmask.dispose();
  return out;`;

const rows = [];
const f = (x) => x.toFixed(1);
const code = await bench('bench', resolve(distArg), models[0].dir, mounts, async (site, driver) => {
  for (const m of models) {
    for (const [ours, theirs] of [['cpu', 'wasm'], ...(m.webgpu ? [['webgpu', 'webgpu']] : [])]) {
      const page = await Page.open(driver.base, { webgpu: true });
      try {
        // A page with our app's bindings, but no model of its own: ?model= points nowhere.
        await page.go(`${site}?model=models/none/`);
        await page.waitFor('the JavaScript API', () => page.js('return !!(window.wasmBindings && window.wasmBindings.BertModel)'));
        const since = await page.now();
        const a = await page.js(`return (async () => { ${OURS} })(...arguments)`, m.name, ours, ITERS, SHORT);
        // While predicting (from the model being loaded), and over the whole run, loading included.
        const longest = await page.longestTask(a.loadedAt);
        const withLoad = await page.longestTask(since);
        const b = await page.js(`return (async () => { ${THEIRS} })(...arguments)`, m.name, theirs, ITERS,
          [['short', SHORT], ['long', a.long.text]]);
        for (const label of ['short', 'long']) {
          const row = { model: m.name, backend: `${a.backend} vs ${theirs}`, tokens: a[label].tokens,
            ours_ms: +f(a[label].median), theirs_ms: +f(b[label].median), ratio: +(b[label].median / a[label].median).toFixed(2),
            ours_first_ms: +f(a[label].first), theirs_first_ms: +f(b[label].first), top: `${a[label].top} / ${b[label].top}`,
            longest_main_thread_task_ms: longest, longest_task_incl_load_ms: withLoad, gpu_kernels: a[label].kernels, device_reads: a[label].reads };
          rows.push(row);
          console.log(JSON.stringify(row));
          if (a[label].kernels > 0) console.log(`  kernels of one forward pass: ${a[label].names.join(', ')}`);
        }
      } finally { await page.close(); }
    }
  }
  // The app itself on the largest model: the longest main-thread task while it predicts,
  // fills every mask, draws attention and fine-tunes (3 steps).
  const big = models[models.length - 1];
  const page = await Page.open(driver.base, { webgpu: true });
  try {
    await page.go(`${site}?model=models/${big.name}/&backend=cpu`);
    await page.waitReady();
    const runs = () => page.js(`return +(document.getElementById('timing').dataset.runs || 0)`);
    await page.waitFor('the first prediction', async () => (await runs()) >= 1, 600000);
    let since = await page.now();
    for (let i = 0; i < 3; i++) {
      const before = await runs();
      await page.click(await page.find('predict-button'));
      await page.waitFor('a prediction', async () => (await runs()) > before, 600000);
    }
    const before = await runs();
    await page.click(await page.find('fill-all-button'));
    await page.waitFor('fill all', async () => (await runs()) > before, 600000);
    const predictTask = await page.longestTask(since);
    await setFineTune(page, { steps: '3', lr: '1e-4', batch: '4' }, 'the cat sat on the mat.\nthe dog sat on the rug.');
    since = await page.now();
    await page.click(await page.find('finetune-start'));
    const stats = await fineTuneEnd(page);
    const tuneTask = await page.longestTask(since);
    console.log(JSON.stringify({ app: big.name, backend: 'cpu', longest_task_predict_fill_attention_ms: predictTask,
      longest_task_finetune_ms: tuneTask, finetune: stats.text }));
  } finally { await page.close(); }
});
console.log('\n| model | backend | tokens | ours (ms) | transformers.js (ms) | theirs / ours | GPU kernels, reads | longest main-thread task while predicting |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.model} | ${r.backend} | ${r.tokens} | ${r.ours_ms} | ${r.theirs_ms} | ${r.ratio}× | ${r.gpu_kernels}, ${r.device_reads} | ${r.longest_main_thread_task_ms} ms |`);
}
process.exit(code);
