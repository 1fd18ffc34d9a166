// Checkpoints of the BERT family beyond `bert` in the page (run by app.mjs on its CPU page):
// a RoBERTa one typed into the model box (by URL), an XLM-RoBERTa one (SentencePiece with
// its Precompiled normaliser) picked as files, and an ALBERT one by URL. Each must predict at
// its own mask token what `bert fill-mask` (parity-tested against transformers) predicts,
// show its tokens as they read (no `Ġ` or `▁`), and mask a clicked chip with its mask token.
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { root, fail, call, predictOnce } from './browser.mjs';

const models = join(root, 'tests/fixtures/models');
const bertBin = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'release/bert');

/** The families app.mjs serves beside the fixture, under these folder names. */
export const FAMILY_MOUNTS = Object.fromEntries(['family-roberta', 'family-xlm-roberta', 'family-albert']
  .map((name) => [`${name}/`, join(models, name)]));

const READ = `return {
  preds: [...document.querySelectorAll('[data-testid="prediction"]')].map(e => ({
    position: +e.dataset.maskPosition, id: +e.dataset.tokenId })),
  chips: [...document.querySelectorAll('[data-testid="token"]')].map(e => e.textContent),
  info: document.getElementById('model-info').textContent }`;

function cliFill(dir, text, k) {
  try {
    return JSON.parse(execFileSync(bertBin, ['fill-mask', '--model', dir, '--json', '--top-k', String(k), text],
      { encoding: 'utf8' }));
  } catch (e) { fail(`${bertBin} fill-mask failed (build it with cargo build --release): ${e.message}`); }
}

async function loadByUrl(page, url) {
  const box = await page.find('model-id-input');
  await page.clear(box);
  await page.type(box, url);
  await page.click(await page.find('load-hub-button'));
}

async function loadByFiles(page, dir) {
  const paths = ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => join(dir, f));
  const input = await page.find('file-input');
  await call(page.base, 'POST', page.s(`/element/${input}/value`), { text: paths.join('\n') });
}

/** Loads one family checkpoint and checks what the page shows against the CLI. */
async function familyInThePage(page, site, name, how, mask) {
  const dir = join(models, name);
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  const architecture = config.architectures[0];
  if (how === 'url') await loadByUrl(page, `${site}${name}/`);
  else await loadByFiles(page, dir);
  await page.waitFor(`${name} loaded`, async () => (await page.text('status')) === 'ready'
    && (await page.js(`return document.getElementById('model-info').textContent`)).includes(architecture), 120000);
  // The intro names this model's mask token, and so do the examples.
  const intro = await page.js(`return [...document.querySelectorAll('.mask-token')].map(e => e.textContent)`);
  if (!intro.length || intro.some((t) => t !== mask)) fail(`${name}: the intro names ${intro}, not ${mask}`);
  const example = await page.js(`const b = document.querySelector('[data-testid="example"]'); return b ? b.textContent : ''`);
  if (!example.includes(mask)) fail(`${name}: the examples do not use ${mask}: ${example}`);

  const text = `The old man walked to the ${mask} and sat down.`;
  const input = await page.find('text-input');
  await page.clear(input);
  await page.type(input, text);
  await predictOnce(page);
  const shown = await page.js(READ);
  const cli = cliFill(dir, text, 10);
  // The page offers words only: the CLI's list without the special tokens (`<s>`, `[CLS]`…).
  const special = (t) => /^\s*(<[^>]+>|\[[A-Z]+\])$/.test(t);
  const want = cli.masks.flatMap((m) => m.predictions.filter((p) => !special(p.token)).slice(0, 5)
    .map((p) => ({ position: m.position, id: p.id })));
  const got = shown.preds.slice(0, want.length).map((p) => ({ position: p.position, id: p.id }));
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    fail(`${name} (${how}): the page predicts ${JSON.stringify(got)}, bert fill-mask ${JSON.stringify(want)}`);
  }
  if (shown.chips.some((c) => /[Ġ▁]/.test(c))) fail(`${name}: chips show word markers: ${shown.chips.join(' ')}`);
  if (!shown.chips.includes(mask)) fail(`${name}: no ${mask} chip: ${shown.chips.join(' ')}`);

  // A click on the first word's chip writes this model's mask token into the text.
  const first = await page.js(`return [...document.querySelectorAll('[data-testid="token"]')]
    .findIndex(e => !e.classList.contains('special') && !e.classList.contains('mask'))`);
  if (first < 0) fail(`${name}: no chip to click: ${shown.chips.join(' ')}`);
  const chip = Object.values(await call(page.base, 'POST', page.s('/element'),
    { using: 'css selector', value: `[data-testid="token"][data-index="${first}"]` }))[0];
  await page.click(chip);
  const masks = (t) => t.split(mask).length - 1;
  await page.waitFor(`${name}: the clicked chip masked with ${mask}`, async () =>
    masks(await page.js(`return document.querySelector('[data-testid="text-input"]').value`)) === 2, 30000);
  console.log(`${name} by ${how}: top-5 as bert fill-mask (${cli.masks[0].predictions.slice(0, 5).map((p) => p.token).join(', ')}); `
    + `chips ${shown.chips.slice(0, 8).join(' ')} …`);
}

export async function familiesFlow(page, site) {
  await familyInThePage(page, site, 'family-roberta', 'url', '<mask>');
  await familyInThePage(page, site, 'family-xlm-roberta', 'files', '<mask>');
  await familyInThePage(page, site, 'family-albert', 'url', '[MASK]');
}
