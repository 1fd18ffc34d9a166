// Benchmark (not a test): ms per fine-tuning step in the built page, on the browser's
// WebGPU adapter and on the CPU fallback, batch 8 and sequences of 64 word pieces.
//   node tests/e2e/bench_finetune.mjs MODEL_DIR [dist] [steps]
// Prints the first step (kernel compilation on WebGPU) and the median of the others.
import { join, resolve } from 'node:path';
import { root, fail, bench, fineTuneEnd, Page, setFineTune } from './browser.mjs';

const model = resolve(process.argv[2] ?? fail('usage: bench_finetune.mjs MODEL_DIR [dist] [steps]'));
const dist = resolve(process.argv[3] ?? join(root, 'dist'));
const steps = process.argv[4] ?? '12';
// Lines longer than 64 word pieces, so every example is cut to the full 64.
const sentence = 'the old man walked slowly along the river, watching the boats go by and thinking of the years he had spent '
  + 'on the water, of the storms and the quiet evenings, of the friends who had sailed with him and were gone.';
const text = Array.from({ length: 8 }, () => `${sentence} ${sentence}`).join('\n');

const code = await bench('bench', dist, model, {}, async (site, driver) => {
  for (const [label, query] of [['webgpu', '&backend=webgpu'], ['cpu', '&backend=cpu']]) {
    const page = await Page.open(driver.base, { webgpu: true });
    try {
      await page.go(`${site}?model=fixture/${query}`);
      await page.waitReady();
      const backend = await page.text('backend');
      if (backend !== label) fail(`expected the ${label} backend, the page is on ${backend}`);
      await setFineTune(page, { steps, lr: '1e-4', batch: '8' }, text);
      await page.click(await page.find('finetune-start'));
      const stats = await fineTuneEnd(page);
      if (stats.finished !== 'true') fail(`the run ended with: ${stats.text}`);
      console.log(JSON.stringify({ backend: label, adapter: await page.js("return document.getElementById('adapter').textContent"), batch: 8, seq: 64, steps: +stats.steps,
        first_step_ms: +stats.firstStepMs, median_step_ms: +stats.warmStepMs }));
    } finally { await page.close(); }
  }
});
process.exit(code);
