// Damaged models given to a working page, through the real file picker and the model box:
// each load must fail with a message that says why, and leave the model that was loaded
// before usable (its predictions unchanged). Run by app.mjs on its CPU page.
import { mkdir, readFile, writeFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { root, fail, call, serve } from './browser.mjs';

const READ_TOKENS = `return [...document.querySelectorAll('[data-testid="prediction"]')].map(e => e.dataset.token).join(' ')`;

/** The fixture's weights with one f32 of `tensor` set to NaN. */
function withNaN(weights, tensor, index) {
  const bytes = Buffer.from(weights);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
  const at = 8 + headerLen + header[tensor].data_offsets[0] + 4 * index;
  bytes.writeFloatLE(NaN, at);
  return bytes;
}

/** Sets of files (name → bytes) a user could pick, and what the error must mention. */
async function damagedSets(fixtureDir) {
  const good = {};
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) good[f] = await readFile(join(fixtureDir, f));
  const damaged = (f) => readFile(join(root, 'tests/fixtures/damaged', f));
  const config = JSON.parse(good['config.json']);
  return [
    ['a lone surrogate in tokenizer.json', { ...good, 'tokenizer.json': await damaged('tokenizer-lone-surrogate.json') }, 'not valid JSON'],
    ['a syntax error in the decoder', { ...good, 'tokenizer.json': await damaged('tokenizer-decoder-syntax.json') }, 'not valid JSON'],
    ['an undefined special token', { ...good, 'tokenizer.json': await damaged('tokenizer-undefined-special.json') }, 'does not define'],
    ['a NaN in the word embeddings', { ...good, 'model.safetensors': withNaN(good['model.safetensors'], 'bert.embeddings.word_embeddings.weight', 5) },
      'word_embeddings.weight'],
    ['a config of a billion layers', { ...good, 'config.json': await damaged('config-billion-layers.json') }, 'num_hidden_layers'],
    ['more layers than the checkpoint', { ...good, 'config.json': JSON.stringify({ ...config, num_hidden_layers: 7 }) }, 'num_hidden_layers is 7'],
    ['a truncated checkpoint', { ...good, 'model.safetensors': good['model.safetensors'].subarray(0, 5000) }, 'safetensors'],
    ['not a checkpoint at all', { ...good, 'model.safetensors': Buffer.from('<html>404</html>') }, 'safetensors'],
    ['a 2.1 GB file', { ...good, 'model.safetensors': 2_100_000_000 }, 'the page holds files up to 2000 MB'],
  ];
}

/** Loads each damaged set into `page` (ready, with a model and predictions on screen). */
export async function damagedLoadsKeepTheModel(page, site, fixtureDir, outDir) {
  const before = await page.js(READ_TOKENS);
  if (!before) fail('no predictions on the page before the damaged loads');
  const predictAgain = async (what) => {
    const runs = await page.js(`return +(document.getElementById('timing').dataset.runs || 0)`);
    await page.click(await page.find('predict-button'));
    await page.waitFor(`a prediction after ${what}`, async () =>
      (await page.js(`return +(document.getElementById('timing').dataset.runs || 0)`)) > runs, 60000);
    const after = await page.js(READ_TOKENS);
    if (after !== before) fail(`after ${what}, the loaded model's predictions changed: "${before}" -> "${after}"`);
  };
  const waitError = (what) => page.waitFor(`the error for ${what}`, async () => {
    const s = await page.text('status');
    return s && s.startsWith('error') ? s : null;
  }, 60000);

  for (const [what, files, needle] of await damagedSets(fixtureDir)) {
    const dir = join(outDir, 'damaged', what.replace(/\W+/g, '-'));
    await mkdir(dir, { recursive: true });
    const paths = [];
    for (const [name, bytes] of Object.entries(files)) {
      if (typeof bytes === 'number') {
        // A sparse file of that many bytes: as large as it says, without the disk space.
        await writeFile(join(dir, name), '');
        await truncate(join(dir, name), bytes);
      } else {
        await writeFile(join(dir, name), bytes);
      }
      paths.push(join(dir, name));
    }
    // WebDriver's file upload: the paths, one per line, typed into the <input type=file>
    // (which adds to what it holds: the page empties it after each pick).
    const input = await page.find('file-input');
    if (await page.js(`return document.querySelector('[data-testid="file-input"]').files.length`)) {
      fail('the file input still holds the previous pick');
    }
    await call(page.base, 'POST', page.s(`/element/${input}/value`), { text: paths.join('\n') });
    const status = await waitError(what);
    if (!status.includes(needle)) fail(`${what}: the error does not say "${needle}": ${status}`);
    await predictAgain(what);
    console.log(`damaged load (${what}): ${status.slice(0, 140)}; the previous model still predicts`);
  }

  // Typed into the model box: a folder that is not there (404), and a model on another
  // origin whose server sends no CORS headers (the browser withholds the answer).
  const other = await serve(join(root, 'dist'), fixtureDir);
  try {
    const elsewhere = `http://127.0.0.1:${other.address().port}/bert/fixture/`;
    for (const [what, url, needle] of [['a missing folder', `${site}no-such-model/`, '404'],
      ['a server without CORS', elsewhere, 'CORS']]) {
      const box = await page.find('model-id-input');
      await page.clear(box);
      await page.type(box, url);
      await page.click(await page.find('load-hub-button'));
      const status = await waitError(what);
      if (!status.includes(needle)) fail(`${what} should say ${needle}: ${status}`);
      await predictAgain(what);
      console.log(`${what}: ${status.slice(0, 160)}; the previous model still predicts`);
    }
  } finally { other.close(); }
}

/** Bad numbers in the page's inputs: a visible message each, nothing silently replaced,
 *  and the page goes on once the value is fixed. */
export async function badInputsAreRefused(page) {
  const set = async (id, value) => {
    const el = await page.find(id);
    await page.clear(el);
    if (value) await page.type(el, value);
  };
  const expectError = async (button, needle, what) => {
    // The message stays beside the panel (the status line may move on with a refresh).
    await page.js(`document.querySelector('[data-testid="status"]').textContent = '';
      for (const e of document.querySelectorAll('[data-testid="error"]')) { e.textContent = ''; e.hidden = true; }`);
    await page.click(await page.find(button));
    const status = await page.waitFor(`the message for ${what}`, () => page.js(
      `const inline = [...document.querySelectorAll('[data-testid="error"]')].find(e => !e.hidden && e.textContent);
       if (inline) return 'error: ' + inline.textContent;
       const s = document.querySelector('[data-testid="status"]').textContent;
       return s && s.startsWith('error') ? s : null;`), 30000);
    if (!status.includes(needle)) fail(`${what}: "${status}" does not say "${needle}"`);
    return status;
  };
  for (const bad of ['abc', '-5', '0', '1e9', '51', '2.5']) {
    await set('topk-input', bad);
    const s = await expectError('predict-button', 'top-k must be a whole number from 1 to 50', `top-k ${bad}`);
    console.log(`top-k "${bad}": ${s}`);
  }
  await set('topk-input', '4');
  for (const [id, bad, needle] of [['finetune-steps', '-5', 'steps'], ['finetune-steps', '1e9', 'steps'],
    ['finetune-lr', 'abc', 'learning rate'], ['finetune-lr', '-1', 'learning rate'], ['finetune-batch', '1e9', 'batch'],
    ['finetune-batch', '0', 'batch']]) {
    const good = await page.js(`return document.querySelector('[data-testid="${id}"]').value`);
    await set(id, bad);
    const s = await expectError('finetune-start', needle, `${id} ${bad}`);
    console.log(`${id} "${bad}": ${s}`);
    await set(id, good);
  }
  // A sentence far longer than the page takes.
  await page.js(`const t = document.querySelector('[data-testid="text-input"]'); window.__kept = t.value;
    t.value = 'word '.repeat(5000); t.dispatchEvent(new Event('input'));`);
  const long = await page.waitFor('the message for a long text', () => page.js(
    `const e = document.getElementById('text-error'); const s = document.querySelector('[data-testid="status"]').textContent;
     return !e.hidden && e.textContent.includes('characters long') ? e.textContent : s.includes('characters long') ? s : null;`), 30000);
  console.log(`long sentence: ${long}`);
  await page.js(`const t = document.querySelector('[data-testid="text-input"]'); t.value = window.__kept; t.dispatchEvent(new Event('input'));`);
  const runs = await page.js(`return +(document.getElementById('timing').dataset.runs || 0)`);
  await page.click(await page.find('predict-button'));
  await page.waitFor('a prediction with the values fixed', async () =>
    (await page.js(`return +(document.getElementById('timing').dataset.runs || 0)`)) > runs && (await page.text('status')) === 'ready', 60000);
}
