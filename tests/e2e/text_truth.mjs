// The text is the state (run by app.mjs): predictions follow the text without a click,
// a stale view is marked while a refresh is pending, filling a prediction writes the word
// into the text, emptying the box clears every view, and a link reproduces the view.
import { fail, runCount } from './browser.mjs';

const predictions = (page) => page.js(`return [...document.querySelectorAll('[data-testid="prediction"]')].map(e => e.dataset.token)`);

async function typeText(page, text) {
  const box = await page.find('text-input');
  await page.clear(box);
  await page.type(box, text);
}

export async function textIsTheState(page, site) {
  // Typing alone refreshes the predictions (no Predict click), marked stale until then.
  const before = await runCount(page);
  await page.js(`const p = document.getElementById('predictions'); window.__sawStale = false;
    new MutationObserver(() => { if (p.dataset.stale === 'true') window.__sawStale = true; }).observe(p, { attributes: true });`);
  await typeText(page, 'a [MASK] of the [MASK].');
  await page.waitFor('predictions of the typed text, without a click', async () =>
    (await runCount(page)) > before && (await page.js(`return document.getElementById('predictions').dataset.stale`)) === 'false'
    && (await page.js(`return document.querySelectorAll('.mask-card').length`)) === 2, 30000);
  if (!(await page.js('return window.__sawStale'))) fail('while the refresh was pending the predictions were not marked stale');

  // Clicking a prediction writes its word into the text box.
  const first = await page.js(`const r = document.querySelector('[data-testid="prediction"]'); return [r.dataset.token, r.dataset.maskPosition]`);
  await page.js(`document.querySelector('[data-testid="prediction"]').click()`);
  const word = first[0].replace(/^##/, '');
  const filled = await page.waitFor('the word in the text', () => page.js(
    `const v = document.querySelector('[data-testid="text-input"]').value; return (v.match(/\\[MASK\\]/g) || []).length === 1 ? v : null`), 30000);
  if (!filled.includes(word)) fail(`filling "${first[0]}" left the text "${filled}"`);
  await page.waitFor('the refreshed predictions', async () => (await page.js(`return document.querySelectorAll('.mask-card').length`)) === 1, 30000);

  // Top-k: a change refreshes by itself.
  const topk = await page.find('topk-input');
  await page.clear(topk);
  await page.type(topk, '3');
  await page.waitFor('three candidates', async () => (await predictions(page)).length === 3, 30000);

  // The URL carries the view: opening it again gives the same text, top-k and predictions.
  const url = await page.js('return location.href');
  if (!url.includes('text=') || !url.includes('k=3')) fail(`the URL does not carry the view: ${url}`);
  const shown = await predictions(page);
  await page.go(url);
  await page.waitReady();
  await page.waitFor('the linked view', async () => (await predictions(page)).join() === shown.join(), 60000);
  const again = await page.js(`return document.querySelector('[data-testid="text-input"]').value`);
  if (again !== filled) fail(`the link gave the text "${again}", not "${filled}"`);

  // Emptying the box leaves nothing of the old text on screen.
  const box = await page.find('text-input');
  await page.clear(box);
  await page.js(`document.querySelector('[data-testid="text-input"]').dispatchEvent(new Event('input', { bubbles: true }))`);
  await page.waitFor('empty views', async () => (await page.js(
    `return document.querySelectorAll('[data-testid="token"], [data-testid="prediction"], [data-testid="model-view"] canvas').length`)) === 0, 30000);
  const note = await page.js(`return document.getElementById('token-note').textContent`);
  if (/\d+ tokens/.test(note)) fail(`an empty box still says "${note}"`);
  console.log(`text is the state: refresh without a click, fill written into the text ("${filled}"), top-k and link reproduce the view, empty box clears it`);
  await page.go(site);
}
