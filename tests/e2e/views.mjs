// The views inside the model (run by app.mjs after a Predict with one mask): the model
// view has one map per layer and head and a click opens it large; attention rollout is a
// choice beside the heads and draws its own map; the layer-by-layer predictions have a
// row per hidden state, the last equal to the prediction shown (the numbers themselves are
// checked against transformers' hidden states in tests/parity.rs).
import { fail } from './browser.mjs';

const HASH = `const c = document.querySelector('[data-testid="heatmap"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0;
  for (let i = 0; i < d.length; i += 1) h = (h * 31 + d[i]) >>> 0; return h;`;

export async function insideTheModel(page, config) {
  const { num_hidden_layers: layers, num_attention_heads: heads } = config;
  const maps = await page.waitFor('the model view', async () => {
    const n = await page.js(`return document.querySelectorAll('[data-testid="model-view"] canvas').length`);
    return n === layers * heads ? n : null;
  }, 30000);
  const painted = await page.js(`return [...document.querySelectorAll('[data-testid="model-view"] canvas')].every(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200) return true; return false; })`);
  if (!painted) fail('a map of the model view is blank');
  // A click on the last layer's second head opens it in the large heatmap.
  await page.js(`document.querySelector('[data-testid="model-view"] canvas[data-layer="${layers - 1}"][data-head="1"]').click()`);
  const chosen = await page.js(`return [document.querySelector('[data-testid="layer-select"]').value, document.querySelector('[data-testid="head-select"]').value]`);
  if (chosen[0] !== String(layers - 1) || chosen[1] !== '1') fail(`the click opened layer/head ${chosen}`);
  const head = await page.js(HASH);

  // Hover: the cell's tokens and value, beside a colour legend up to the map's largest value.
  // A pointer over the map, a third of the way in (a mouse move as the browser sends it).
  await page.js(`const c = document.querySelector('[data-testid="heatmap"]'); const r = c.getBoundingClientRect();
    c.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: r.left + r.width / 3, clientY: r.top + r.height / 3 }));`);
  const readout = await page.waitFor('the hover readout', () => page.js(`return document.querySelector('[data-testid="heatmap-value"]').textContent`), 10000);
  if (!/→ .*: \d\.\d{3}$/.test(readout)) fail(`the hover readout says "${readout}"`);
  const legend = await page.js(`return +document.getElementById('legend-max').textContent`);
  if (!(legend > 0 && legend <= 1)) fail(`the legend's top value is ${legend}`);

  // Rollout: an option of the head select, with its own map and caption.
  const option = await page.js(`const o = document.querySelector('[data-testid="head-select"] [data-testid="rollout-option"]'); return o ? o.value : null`);
  if (!option) fail('no attention-rollout option in the head select');
  await page.js(`const h = document.querySelector('[data-testid="head-select"]'); h.value = arguments[0]; h.dispatchEvent(new Event('change'));`, option);
  const caption = await page.js(`return document.getElementById('heatmap-caption').textContent`);
  if (!/rollout/.test(caption)) fail(`the caption does not say rollout: ${caption}`);
  if ((await page.js(HASH)) === head) fail('the rollout map is the same picture as a head');

  // Layer by layer: the embeddings and every layer, the last one the shown prediction.
  const rows = await page.js(`return [...document.querySelectorAll('[data-testid="layer-predictions"] [data-layer]')].map(r => ({ layer: +r.dataset.layer, id: r.dataset.tokenId }))`);
  if (rows.length !== layers + 1 || rows.some((r, i) => r.layer !== i || !r.id)) fail(`layer predictions: ${JSON.stringify(rows)}`);
  const top = await page.js(`return document.querySelector('[data-testid="prediction"]').dataset.tokenId`);
  if (rows[layers].id !== top) fail(`the last layer's guess ${rows[layers].id} is not the prediction ${top}`);
  console.log(`inside the model: ${maps} maps in the model view, hover "${readout}" (legend to ${legend}), rollout drawn, ${rows.length} layer rows (top ids ${rows.map((r) => r.id).join(' ')})`);
}
