// Filling masks as a user sees it (run by app.mjs on the fixture model): no special token
// is ever offered as a filler, Fill all shows its progress and stops when asked, and a
// [MASK] past the model's position limit is named as cut off.
import { fail, predictOnce, SETTLED } from './browser.mjs';

const SPECIAL = ['[CLS]', '[SEP]', '[PAD]', '[UNK]', '[MASK]'];

async function setText(page, text) {
  const input = await page.find('text-input');
  await page.clear(input);
  await page.js(`const e = document.querySelector('[data-testid="text-input"]'); e.value = arguments[0];
    e.dispatchEvent(new Event('input', { bubbles: true }));`, text);
}

export async function fillingMasks(page, maxPositions) {
  // Top-50 at three masks of a random-weight model: specials would be among them if allowed.
  await setText(page, 'the [MASK] sat on the [MASK] of the [MASK].');
  const topk = await page.find('topk-input');
  await page.clear(topk);
  await page.type(topk, '50');
  await predictOnce(page, 60000);
  const offered = await page.js(`return [...document.querySelectorAll('[data-testid="prediction"]')].map(e => e.dataset.token)`);
  if (offered.length !== 150) fail(`expected 3 × 50 predictions, got ${offered.length}`);
  const special = offered.filter((t) => SPECIAL.includes(t));
  if (special.length) fail(`special tokens offered as fillers: ${special.join(', ')}`);
  const byLayer = await page.js(`return [...document.querySelectorAll('[data-testid="layer-predictions"] [data-token]')].map(e => e.dataset.token)`);
  if (byLayer.some((t) => SPECIAL.includes(t))) fail(`a special token in the layer-by-layer guesses: ${byLayer}`);
  await page.clear(topk);
  await page.type(topk, '5');

  // A click that lands while the page refreshes by itself (after every edit) is not lost:
  // the button stays clickable, and Fill all starts once the refresh is done. (First the
  // page settles, so the refresh caught is the one of the text below.)
  await page.waitFor('the page to settle', () => page.js(SETTLED), 30000);
  await page.js(`const app = document.getElementById('bert-app');
    const button = document.querySelector('[data-testid="fill-all-button"]');
    window.__clickedWhile = null; document.querySelector('[data-testid="fill-progress"]').textContent = '';
    new MutationObserver((_, o) => { if (app.dataset.phase === 'predicting') {
      window.__clickedWhile = button.disabled ? 'disabled' : 'clicked'; button.click(); o.disconnect(); } })
      .observe(app, { attributes: true, attributeFilter: ['data-phase'] });`);
  await setText(page, 'the [MASK] sat on the [MASK].');
  const clicked = await page.waitFor('a click during the refresh', () => page.js('return window.__clickedWhile'), 30000);
  if (clicked !== 'clicked') fail('Fill all is disabled while the page refreshes: a click then is lost');
  const during = await page.waitFor('Fill all after the refresh', async () => {
    const s = await page.text('fill-progress');
    return /^filled 2 masks/.test(s) ? s : null;
  }, 60000);
  console.log(`fill all clicked during a refresh: ${during}`);

  // Fill all on many masks: progress "n of N", and the button stops it.
  const masks = 24;
  await setText(page, Array.from({ length: masks }, () => 'the [MASK]').join(' ') + '.');
  await page.waitFor('the masks as chips', async () => (await page.js(
    `return [...document.querySelectorAll('[data-testid="token"]')].filter(e => e.textContent === '[MASK]').length`)) === masks);
  // Stop is clicked the moment the second fill lands (an observer in the page: the fixture
  // model fills faster than WebDriver polls), and the button's label is read there too.
  await page.js(`const status = document.querySelector('[data-testid="fill-progress"]');
    const button = document.querySelector('[data-testid="fill-all-button"]');
    window.__fillLabel = null;
    new MutationObserver((_, o) => { if (/filling: 2 of/.test(status.textContent)) {
      window.__fillLabel = button.textContent; button.click(); o.disconnect(); } })
      .observe(status, { childList: true, characterData: true, subtree: true });
    button.click();`);
  await page.waitFor('the stop click', () => page.js('return window.__fillLabel'), 60000);
  const label = await page.js('return window.__fillLabel');
  if (label !== 'Stop filling') fail(`while filling, the button says "${label}"`);
  const stopped = await page.waitFor('Fill all to stop', async () => {
    const s = await page.text('fill-progress');
    return /stopped filling after \d+ of 24/.test(s) ? s : null;
  }, 60000);
  const filled = +stopped.match(/after (\d+)/)[1];
  const left = await page.js(`return [...document.querySelectorAll('[data-testid="token"]')].filter(e => e.textContent === '[MASK]').length`);
  if (!(filled < masks && left === masks - filled)) fail(`stopped after ${filled} fills but ${left} masks are left`);
  const chips = await page.js(`return [...document.querySelectorAll('[data-testid="token"]')].map(e => e.textContent)`);
  if (chips.filter((t) => SPECIAL.includes(t) && t !== '[MASK]').length !== 2) fail(`a fill wrote a special token: ${chips.join(' ')}`);
  await page.waitFor('the button to be Fill all again', async () => (await page.js(
    `return document.querySelector('[data-testid="fill-all-button"]').textContent`)) === 'Fill all', 30000);
  console.log(`fill all: ${stopped}; no special token offered among ${offered.length} predictions`);

  // A mask past the position limit is named, not passed over.
  await setText(page, Array.from({ length: maxPositions + 10 }, () => 'the').join(' ') + ' [MASK].');
  await predictOnce(page, 60000);
  const cut = await page.js(`const e = document.querySelector('#predictions [data-testid="error"]'); return e ? e.textContent : ''`);
  if (!cut.includes(`limit of ${maxPositions} tokens`)) fail(`the cut-off mask is not named: "${cut}"`);
  console.log(`cut-off mask: ${cut}`);
}
