// The Classify panel end to end (run by app.mjs): bad labelled input is refused with a
// message; ~40 pasted examples train a classifier on the embedded model on the CPU
// fallback; unseen sentences are classified right, with the [CLS] rows drawn; the download
// is a Hugging Face BertForSequenceClassification (its tensor names those transformers
// saves, read from a checkpoint transformers wrote) whose probabilities `bert classify`
// (parity-tested against transformers) gives too; and published task checkpoints
// (sequence and token, made by transformers) load and classify as the CLI does.
// With E2E_PYTHON (a Python with transformers) the download is also loaded by transformers.
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { root, fail, unzipTo, predictOnce } from './browser.mjs';

const models = join(root, 'tests/fixtures/models');
const examples = join(root, 'tests/fixtures/classify');
const bertBin = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'release/bert');

const LABELS = `return [...document.querySelectorAll('[data-testid="classify-label"]')].map(e => ({
  label: e.dataset.label, probability: +e.dataset.probability }));`;
const TOKENS = `return [...document.querySelectorAll('[data-testid="classify-token"]')].map(e => ({
  label: e.dataset.label, probability: +e.dataset.probability }));`;

/** Sets a text box's value as a paste would (typing 10,000 lines through WebDriver is slow). */
const paste = (page, testid, value) => page.js(
  `const e = document.querySelector('[data-testid="${testid}"]'); e.value = arguments[0];
   e.dispatchEvent(new Event('input', { bubbles: true }));`, value);

/** `bert classify --json` on a checkpoint directory (the library, parity-tested against transformers). */
function cliClassify(dir, text) {
  try { return JSON.parse(execFileSync(bertBin, ['classify', '--model', dir, '--json', text], { encoding: 'utf8' })); }
  catch (e) { fail(`${bertBin} classify failed (build it with cargo build --release): ${e.message}`); }
}

function assertClose(what, got, want, tol) {
  if (got.length !== want.length) fail(`${what}: ${got.length} values, expected ${want.length}`);
  got.forEach((g, i) => { if (!(Math.abs(g - want[i]) <= tol)) fail(`${what}[${i}]: ${g} vs ${want[i]}`); });
}

/** Tensor names of a safetensors file (its JSON header). */
async function tensorNames(file) {
  const bytes = await readFile(file);
  const n = Number(bytes.readBigUInt64LE(0));
  return Object.keys(JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))).filter((k) => k !== '__metadata__');
}

/** Tensor names with the layer index taken out: the same for any number of layers. */
const shapeOfNames = (names) => [...new Set(names.map((k) => k.replace(/\.layer\.\d+\./, '.layer.N.')))].sort().join('\n');

async function classifyText(page, text) {
  const input = await page.find('classify-input');
  await page.clear(input);
  await page.type(input, text);
  await page.js(`document.querySelector('[data-testid="classify-result"]').textContent = ''`);
  await page.click(await page.find('classify-button'));
  return page.waitFor(`the labels of "${text}"`, async () => {
    const labels = await page.js(LABELS);
    return labels.length ? labels : null;
  }, 60000);
}

async function refused(page, what, text, pattern) {
  await paste(page, 'classify-examples', text);
  await page.js(`const e = document.getElementById('classify-error'); e.textContent = ''; e.hidden = true;`);
  await page.click(await page.find('classify-start'));
  // Beside the panel, where the message stays.
  const status = await page.waitFor(`a message for ${what}`, () => page.js(
    `const e = document.getElementById('classify-error'); return !e.hidden && e.textContent ? e.textContent : null`), 60000);
  if (!pattern.test(status)) fail(`${what}: the message does not say why: ${status}`);
  console.log(`classify, ${what}: ${status}`);
}

export async function classifyFlow(page, site, outDir, layers) {
  await page.go(site);
  await page.waitReady();

  await refused(page, 'no examples', '', /no labelled examples/);
  await refused(page, 'one label only', 'positive: a fine day\npositive: a good day\npositive: a happy day\npositive: a nice day\npositive: a kind day\npositive: a lovely day', /at least two/);
  await refused(page, 'a line without a label', 'positive: a fine day\nthis line has no label\nnegative: a sad day', /line 2.*no label/);
  const many = Array.from({ length: 10000 }, (_, i) => `${i % 2 ? 'negative' : 'positive'}: sentence number ${i}`).join('\n');
  await refused(page, '10,000 lines', many, /more than \d+ examples/);

  // ~40 labelled sentences (not the page's own sample), the panel's default steps and rate.
  await paste(page, 'classify-examples', await readFile(join(examples, 'sentiment.tsv'), 'utf8'));
  const t0 = Date.now();
  await page.click(await page.find('classify-start'));
  const stats = await page.waitFor('the classifier to train', () => page.js(
    `const e = document.querySelector('[data-testid="classify-stats"]'); return e.dataset.finished ? {...e.dataset, text: e.textContent} : null`), 300000);
  if (stats.finished !== 'true') fail(`training the classifier failed: ${stats.text}`);
  const wall = (Date.now() - t0) / 1000;
  const progress = await page.js(`const p = document.querySelector('[data-testid="classify-progress"]'); return [p.value, p.max]`);
  if (progress[0] !== progress[1] || progress[1] < 1) fail(`the progress bar ends at ${progress[0]} of ${progress[1]}`);
  const accuracy = await page.js(`return +document.querySelector('[data-testid="classify-accuracy"]').dataset.accuracy`);
  if (!(accuracy >= 0.5)) fail(`held-out accuracy ${accuracy} after training: ${stats.text}`);
  const losses = stats.losses.split(',').map(Number);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (!(mean(losses.slice(-5)) < mean(losses.slice(0, 5)) / 3)) fail(`the loss did not fall: ${stats.losses}`);
  console.log(`classify: trained in ${wall.toFixed(1)} s (${stats.seconds} s in the worker), held-out accuracy ${accuracy}: ${stats.text}`);

  // The examples it trained on are learned; unseen sentences (new combinations of their
  // words) mostly right: a 4-layer model of old books on 32 examples reaches about 2 in 3
  // (transformers fine-tuning the same checkpoint does no better: BENCHMARKS.md). Each is logged.
  const trained = (await readFile(join(examples, 'sentiment.tsv'), 'utf8')).trim().split('\n').map((l) => l.split('\t'));
  for (const [want, text] of trained.slice(0, 3)) {
    const labels = await classifyText(page, text);
    if (labels[0].label !== want) fail(`a training sentence is not learned: "${text}" -> ${JSON.stringify(labels)}`);
  }
  const unseen = (await readFile(join(examples, 'unseen.tsv'), 'utf8')).trim().split('\n').map((l) => l.split('\t'));
  let right = 0;
  let last = null;
  for (const [want, text] of unseen) {
    const labels = await classifyText(page, text);
    right += labels[0].label === want ? 1 : 0;
    console.log(`classify: "${text}" -> ${labels.map((l) => `${l.label} ${(100 * l.probability).toFixed(1)}%`).join(', ')} (want ${want})`);
    last = { text, labels };
  }
  if (right < Math.ceil(unseen.length * 0.58)) fail(`only ${right} of ${unseen.length} unseen sentences classified right`);
  console.log(`classify: ${right} of ${unseen.length} unseen sentences right`);
  const rows = await page.js(`return [...document.querySelectorAll('[data-testid="classify-attention"] [data-layer]')].map(r => r.querySelectorAll('[data-weight]').length)`);
  if (rows.length !== layers || rows.some((n) => n < 3)) fail(`expected ${layers} [CLS] rows of tokens, got ${JSON.stringify(rows)}`);
  await page.screenshot(join(outDir, 'app-classify.png'));

  // The download: a transformers BertForSequenceClassification with the page's probabilities.
  const saved = join(outDir, 'classifier-download');
  const downloads = join(outDir, 'classifier');
  await rm(saved, { recursive: true, force: true });
  await rm(downloads, { recursive: true, force: true });
  await mkdir(saved, { recursive: true });
  await page.cdp('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: saved });
  await page.click(await page.find('classify-download'));
  const zipped = join(saved, 'bert-classifier.zip');
  await page.waitFor('the classifier in the downloads', async () => {
    const names = await readdir(saved).catch(() => []);
    return names.includes('bert-classifier.zip') && !names.some((n) => n.endsWith('.crdownload')) && (await stat(zipped)).size > 1000;
  }, 60000);
  const names = await unzipTo(zipped, downloads);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) if (!names.includes(f)) fail(`the download lacks ${f}: ${names}`);
  const config = JSON.parse(await readFile(join(downloads, 'config.json'), 'utf8'));
  if (config.architectures?.[0] !== 'BertForSequenceClassification') fail(`downloaded architectures: ${config.architectures}`);
  if (config.id2label?.['0'] !== 'positive' || config.label2id?.negative !== 1) fail(`downloaded labels: ${JSON.stringify(config.id2label)}`);
  const ours = shapeOfNames(await tensorNames(join(downloads, 'model.safetensors')));
  const theirs = shapeOfNames(await tensorNames(join(models, 'seq-cls/model.safetensors')));
  if (ours !== theirs) fail(`the download's tensor names differ from transformers':\n${ours}\n---\n${theirs}`);
  const cli = cliClassify(downloads, last.text);
  const byLabel = (ls) => Object.fromEntries(ls.map((l) => [l.label, l.probability]));
  const page_ = byLabel(last.labels);
  assertClose('the download\'s probabilities (bert classify vs the page)',
    cli.predictions.map((p) => page_[p.label]), cli.predictions.map((p) => p.probability), 1e-4);
  if (process.env.E2E_PYTHON) {
    const out = execFileSync(process.env.E2E_PYTHON, [join(root, 'tests/e2e/check_hf_classifier.py'), downloads, last.text,
      JSON.stringify(page_)], { encoding: 'utf8' });
    console.log(`classify, transformers: ${out.trim()}`);
  }
  console.log(`classify: the download has transformers' tensor names and labels; bert classify gives the page's probabilities`);
}

/** A published task checkpoint (made by transformers) loads and classifies as the CLI does. */
export async function taskCheckpointFlow(page, site, name, text) {
  const dir = join(models, name);
  await page.go(`${site}?model=${name}/`);
  await page.waitReady();
  const info = await page.js(`return document.getElementById('model-info').textContent`);
  const input = await page.find('text-input');
  await page.clear(input);
  await page.type(input, text);
  await predictOnce(page, 60000);
  const cli = cliClassify(dir, text);
  if (cli.task === 'sequence') {
    if (!info.includes('sequence classifier')) fail(`${name}: not recognised as a sequence classifier: ${info}`);
    const labels = await page.js(LABELS);
    assertClose(`${name}: probabilities`, labels.map((l) => l.probability), cli.predictions.map((p) => p.probability), 1e-4);
    if (labels.map((l) => l.label).join() !== cli.predictions.map((p) => p.label).join()) fail(`${name}: labels ${JSON.stringify(labels)}`);
    console.log(`task checkpoint ${name}: ${labels.map((l) => `${l.label} ${(100 * l.probability).toFixed(1)}%`).join(', ')} as the CLI`);
  } else {
    if (!info.includes('token classifier')) fail(`${name}: not recognised as a token classifier: ${info}`);
    const tokens = await page.js(TOKENS);
    if (tokens.map((t) => t.label).join() !== cli.predictions.map((p) => p.label).join()) {
      fail(`${name}: token labels ${tokens.map((t) => t.label)} vs the CLI's ${cli.predictions.map((p) => p.label)}`);
    }
    assertClose(`${name}: token probabilities`, tokens.map((t) => t.probability), cli.predictions.map((p) => p.probability), 1e-4);
    console.log(`task checkpoint ${name}: ${tokens.length} tokens labelled as the CLI (${tokens.map((t) => t.label).join(' ')})`);
  }
  const maps = await page.js(`return document.querySelector('[data-testid="layer-select"]').options.length`);
  if (maps < 1) fail(`${name}: no attention maps to show`);
}
