// Soak test of the built app: in one page, on WebGPU (headless Chromium's SwiftShader) with
// the fixture model, 1,000 predictions, 100 fill-alls and 30 fine-tuning runs with Reset
// between them. The page's DOM nodes and event listeners, its JavaScript heap, the model
// worker's wasm heap and the GPU memory Burn holds must stay flat; the figures are printed.
// The worker's heap is judged run by run. Measured over 40 runs: the bytes it holds
// (counted by its allocator, www/src/heap.rs) step up once or twice in the first dozen
// runs (a cache filling: +7.6 KB and +34 KB; once +69 KB) and then stay within ±1 KB for
// the 27 runs after; the memory's size, a high-water mark, stayed put. So the second half
// of the runs must not grow: a leak steps up run after run.
//   node tests/e2e/soak.mjs [dist] [model dir]
import { join, resolve } from 'node:path';
import { root, fail, serve, startDriver, Page } from './browser.mjs';

const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const fixture = resolve(process.argv[3] ?? join(root, 'tests/fixtures/models/gelu-f32'));
const [PREDICTIONS, FILLS, TUNES] = (process.env.SOAK ?? '1000,100,30').split(',').map(Number);
// The worker's live heap, run to run once warm: what a request in flight may hold, and
// what the second half of the runs may gain in all (see the end).
const STEP = 16 << 10;
const SPREAD = 96 << 10;
const TEXT = 'the cat sat on the [MASK] and the dog ate the [MASK].';

// Runs in the page: drives the app through its own buttons, as fast as it answers.
const DRIVE = `const [what, n, text] = arguments;
  const q = (id) => document.querySelector('[data-testid="' + id + '"]');
  const timing = document.getElementById('timing');
  const app = document.getElementById('bert-app');
  const runs = () => +(timing.dataset.runs || 0);
  const idle = () => app.dataset.phase === 'idle' && q('status').textContent === 'ready';
  const until = async (f, what) => {
    const t0 = performance.now();
    while (!f()) {
      if (performance.now() - t0 > 300000) throw new Error('timed out: ' + what + ' (status ' + q('status').textContent + ')');
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const setText = async (t) => {
    q('text-input').value = t;
    q('text-input').dispatchEvent(new Event('input'));
    await new Promise((r) => setTimeout(r, 20));
    // The page refreshes by itself after a change: wait until that has landed too.
    await until(() => idle() && document.getElementById('predictions').dataset.stale !== 'true', 'tokens');
  };
  for (let i = 0; i < n; i++) {
    const r = runs();
    if (what === 'predict') {
      q('predict-button').click();
      await until(() => runs() > r && idle(), 'prediction ' + i);
    } else if (what === 'fill') {
      await setText(text);
      q('fill-all-button').click();
      await until(() => runs() > r && idle(), 'fill-all ' + i);
    } else {
      const stats = document.getElementById('finetune-stats');
      q('finetune-start').click();
      await until(() => stats.dataset.finished, 'fine-tuning run ' + i);
      q('finetune-reset').click();
      await until(() => runs() > r && idle(), 'reset ' + i);
    }
  }
  await setText(text);
  const r = runs();
  q('predict-button').click();
  await until(() => runs() > r && idle(), 'the last prediction');
  return runs();`;

async function sample(page, label) {
  // DOM counters include detached nodes the renderer has not collected yet (one GC does not
  // always reach them: a sample once read 156 more nodes than the same page settled): the
  // fewest over a few collections, so garbage goes and what is held stays.
  let dom = null;
  for (let i = 0; i < 5; i++) {
    await page.cdp('HeapProfiler.collectGarbage', {});
    const d = await page.cdp('Memory.getDOMCounters', {});
    if (!dom || d.nodes < dom.nodes) dom = d;
    await new Promise((r) => setTimeout(r, 200));
  }
  const heap = await page.js('return performance.memory.usedJSHeapSize');
  const worker = await page.js('return window.wasmBindings.modelWorkerMemory()');
  const s = { label, nodes: dom.nodes, listeners: dom.jsEventListeners, js_heap: heap,
    wasm_heap: worker.wasm_heap_bytes, wasm_live: worker.wasm_live_bytes, gpu_in_use: worker.gpu_bytes_in_use, gpu_reserved: worker.gpu_bytes_reserved,
    gpu_allocations: worker.gpu_allocations };
  console.log(JSON.stringify(s));
  return s;
}

const server = await serve(dist, fixture);
const site = `http://127.0.0.1:${server.address().port}/bert/`;
const driver = await startDriver();
let code = 0;
const page = await Page.open(driver.base, { webgpu: true });
try {
  await page.go(`${site}?model=fixture/&backend=webgpu`);
  await page.waitReady();
  if ((await page.text('backend')) !== 'webgpu') fail('the soak runs on WebGPU');
  for (const [id, value] of [['finetune-steps', '4'], ['finetune-lr', '1e-4'], ['finetune-batch', '4']]) {
    const el = await page.find(id);
    await page.clear(el);
    await page.type(el, value);
  }
  const ft = await page.find('finetune-text');
  await page.clear(ft);
  await page.type(ft, 'the cat sat on the mat.\nthe dog ran after the cat.');
  // In chunks of 100: one WebDriver call must answer within Node fetch's 300 s.
  const drive = async (what, n) => {
    for (let done = 0; done < n; done += 100) {
      await page.js(`return (async () => { ${DRIVE} })(...arguments)`, what, Math.min(100, n - done), TEXT);
    }
  };
  const t0 = Date.now();
  // Warm-up: every kind of work once or more, so kernels, pools and caches are in place.
  await drive('predict', 20);
  await drive('fill', 3);
  await drive('tune', 3);
  const warm = await sample(page, 'warm');
  await drive('predict', PREDICTIONS);
  await sample(page, `after ${PREDICTIONS} predictions`);
  await drive('fill', FILLS);
  await sample(page, `after ${FILLS} fill-alls`);
  // One sample a cycle: the worker's heap is followed run by run.
  const cycles = [];
  for (let i = 1; i <= TUNES; i++) {
    await drive('tune', 1);
    cycles.push(await page.js('return window.wasmBindings.modelWorkerMemory()'));
  }
  console.log(`worker heap after each fine-tuning run (size / live bytes): ${cycles.map((c) => `${c.wasm_heap_bytes}/${c.wasm_live_bytes}`).join(' ')}`);
  const last = await sample(page, `after ${TUNES} fine-tuning runs with Reset`);
  console.log(`soak: ${PREDICTIONS} predictions, ${FILLS} fill-alls, ${TUNES} fine-tuning runs in ${((Date.now() - t0) / 1e3).toFixed(0)} s`);

  const grew = (key, allowance) => {
    if (last[key] > warm[key] + allowance) fail(`${key} grew: ${warm[key]} -> ${last[key]} (allowed +${allowance})`);
  };
  // The same text and predictions on screen as at the warm sample: the same DOM (a few
  // text nodes may be in flight; one leaked node per prediction would be 1,000).
  grew('nodes', 64);
  grew('listeners', 0);
  // The worker's heap over the second half of the runs. Bytes held: a run may step above
  // every run before it by more than what one request in flight holds (STEP) once at
  // most (a late cache entry), and the half may gain SPREAD at most; a leak of 4 KiB a
  // run or more steps up at every fourth run at least. The memory's size may move once
  // at most (the allocator's high-water mark settling), by no more than 1 MiB.
  const later = cycles.slice(Math.floor(cycles.length / 2));
  const live = later.map((c) => c.wasm_live_bytes);
  let top = live[0];
  let steps = 0;
  for (const bytes of live.slice(1)) {
    if (bytes > top + STEP) steps++;
    top = Math.max(top, bytes);
  }
  if (steps > 1 || top > live[0] + SPREAD) fail(`the worker's live heap grew run over run in the second half: ${live.join(' ')}`);
  const sizes = later.map((c) => c.wasm_heap_bytes);
  const moves = sizes.slice(1).filter((size, i) => size > sizes[i]).length;
  if (moves > 1 || sizes[sizes.length - 1] > sizes[0] + (1 << 20)) fail(`the worker's wasm memory grew run over run in the second half: ${sizes.join(' ')}`);
  grew('wasm_live', 1 << 20);
  // GPU memory in use by 256 KiB, as in the memory test of www/tests/web.rs.
  grew('gpu_in_use', 256 << 10);
  // Live GPU allocations: a few small constants are kept as new shapes are first seen
  // (measured: +4, then flat from 2 to 16 runs); a leaked tensor per run adds one a run.
  grew('gpu_allocations', 8);
  // Reserved pages follow the last work's sizes (fine-tuning's are larger than a
  // prediction's): measured within 0.9 MiB of the warm figure from 2 to 16 runs.
  grew('gpu_reserved', 2 << 20);
  // The main thread's heap after a full collection: within 1 MiB.
  grew('js_heap', 1 << 20);
  console.log('soak passed');
} catch (e) {
  console.error(`soak FAILED: ${e.message}`);
  code = 1;
} finally {
  await page.close();
  driver.proc.kill();
  server.close();
}
process.exit(code);
