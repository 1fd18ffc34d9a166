// A phone and a keyboard (run by app.mjs on a loaded page): no horizontal scroll at 390 and
// 360 px, touch targets of 40 px, focus kept on the chip a user pressed Enter on, special
// chips out of the tab order, aria-pressed on chips, the status in a live region, a text
// alternative for every canvas, screenshots at each width.
import { join } from 'node:path';
import { call, fail } from './browser.mjs';

const OVERFLOW = `return document.documentElement.scrollWidth - window.innerWidth`;

/** Fails if the page scrolls sideways now (`when`: what the page was showing). */
export async function noSidewaysScroll(page, when) {
  const overflow = await page.js(OVERFLOW);
  if (overflow > 0) {
    const wide = await page.js(`return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + (e.id || e.dataset.testid || ''))`);
    fail(`the page scrolls sideways ${when} by ${overflow} px: ${wide.join(', ')}`);
  }
}

export async function phoneAndKeyboard(page, outDir) {
  for (const width of [390, 360]) {
    await call(page.base, 'POST', page.s('/window/rect'), { width, height: 844 });
    await page.waitFor(`a ${width} px layout`, () => page.js(`return window.innerWidth <= ${width}`), 10000);
    await noSidewaysScroll(page, `at ${width} px`);
    const small = await page.js(`return [...document.querySelectorAll('[data-testid="text-input"] ~ * button, [data-testid="token"], [data-testid="example"], [data-testid="predict-button"], [data-testid="fill-all-button"]')]
      .filter(e => e.offsetParent && e.getBoundingClientRect().height < 40).map(e => e.textContent)`);
    if (small.length) fail(`touch targets under 40 px at ${width} px: ${small.slice(0, 5).join(', ')}`);
    await page.screenshot(join(outDir, `app-${width}px.png`));
  }
  await call(page.base, 'POST', page.s('/window/rect'), { width: 1280, height: 2000 });
  const { index, specials } = await keyboardAndScreenReader(page);
  // The heatmap's values as a table, on demand.
  await page.js(`document.getElementById('heatmap-table-box').open = true`);
  const cells = await page.waitFor('the heatmap table', () => page.js(`return document.querySelectorAll('#heatmap-table td').length`), 10000);
  console.log(`phone and keyboard: no sideways scroll at 390/360 px, Enter keeps focus on chip ${index}, ${specials} special chips out of the tab order, heatmap table of ${cells} cells`);
}

/** Enter on a chip masks it and keeps the focus there; special chips are out of the tab
 *  order; the status is a live region; every canvas has a text alternative. */
export async function keyboardAndScreenReader(page) {
  // Enter on a chip masks it and keeps the focus there (the chips are redrawn).
  const index = await page.js(`const c = [...document.querySelectorAll('[data-testid="token"]')].find(e => e.getAttribute('aria-pressed') === 'false');
    c.focus(); return +c.dataset.index`);
  const chip = Object.values(await call(page.base, 'POST', page.s('/element'),
    { using: 'css selector', value: `[data-testid="token"][data-index="${index}"]` }))[0];
  await call(page.base, 'POST', page.s(`/element/${chip}/value`), { text: '\uE007' });
  // The chips are redrawn from the edited text; the focus must come back to this one.
  const focusedNow = `const e = document.activeElement; return [e.dataset.testid, e.dataset.index, e.getAttribute('aria-pressed'), e.textContent]`;
  await page.waitFor('the chip masked and focused', async () => (await page.js(focusedNow))[2] === 'true', 30000).catch(() => {});
  const focused = await page.js(focusedNow);
  if (focused[0] !== 'token' || +focused[1] !== index || focused[2] !== 'true') fail(`after Enter on chip ${index}, focus is on ${JSON.stringify(focused)}`);
  const specials = await page.js(`return [...document.querySelectorAll('[data-testid="token"].special')].map(e => [e.tabIndex, e.getAttribute('aria-pressed')])`);
  if (!specials.length || specials.some(([t, p]) => t !== -1 || p !== null)) fail(`special chips are focusable or pressable: ${JSON.stringify(specials)}`);
  const live = await page.js(`const s = document.querySelector('[data-testid="status"]'); return s.getAttribute('role') + ' ' + s.getAttribute('aria-live')`);
  if (live !== 'status polite') fail(`the status is not a live region: ${live}`);
  const bare = await page.js(`return [...document.querySelectorAll('canvas')].filter(c => !c.getAttribute('aria-label')).map(c => c.dataset.testid || c.className)`);
  if (bare.length) fail(`canvases without a text alternative: ${bare.join(', ')}`);
  return { index, specials: specials.length };
}
