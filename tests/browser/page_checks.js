// What tests/browser/test_every_page.py checks on one page at the current width, in one call:
// axe-core loaded before, when asked for: async ({axeRules}) => {links, texts, problems: [{check, detail}]}; axeRules: null (no axe), [] (every rule) or the
// ids of the rules to run.
async ({ axeRules }) => {
  // let a resize (phone ↔ desktop) lay the page out again before measuring
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const problems = [];
  const width = document.documentElement.clientWidth;
  const CONTROLS = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [role=link], '
    + '[tabindex]:not([tabindex="-1"])';

  const describe = (el) => {
    const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.getAttribute('placeholder') || '')
      .trim().replace(/\s+/g, ' ').slice(0, 40);
    const id = el.id ? `#${el.id}` : '';
    const cls = typeof el.className === 'string' && el.className.trim()
      ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
    return `${el.tagName.toLowerCase()}${id}${cls}${name ? ` "${name}"` : ''}`;
  };
  const style = (el) => getComputedStyle(el);
  const scrolls = (el) => ['auto', 'scroll'].includes(style(el).overflowX);
  // hidden from sight on purpose: .visually-hidden boxes (clipped to 1 px) and whatever is inside them
  const visuallyHidden = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      const s = style(node);
      if (s.clip !== 'auto' && s.position === 'absolute') return true;
      if (s.overflow === 'hidden' && node.offsetWidth <= 1 && node.offsetHeight <= 1) return true;
    }
    return false;
  };
  const shown = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) && !visuallyHidden(el);
  const insideScrollingBox = (el) => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      if (scrolls(node) && node.scrollWidth > node.clientWidth + 1) return true;
    }
    return false;
  };

  // 1. the page itself scrolls sideways
  const pageWidth = document.documentElement.scrollWidth;
  if (pageWidth > width + 1) {
    const culprits = [...document.body.querySelectorAll('*')]
      .filter((el) => shown(el) && el.getBoundingClientRect().right > width + 1 && !insideScrollingBox(el)
        && ![...el.children].some((child) => child.getBoundingClientRect().right > width + 1))
      .slice(0, 3).map(describe);
    problems.push({ check: 'page overflow', detail: `${pageWidth}px wide in ${width}px: ${culprits.join('; ')}` });
  }

  // 2. text running out of its figure card or table cell (scroll containers may be wider inside)
  for (const el of document.querySelectorAll('td, th, .stat, .stat-value, .card, .figure, [class*="stat-"]')) {
    if (!shown(el) || scrolls(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      problems.push({ check: 'text overflow', detail: `${describe(el)}: ${el.scrollWidth}px in ${el.clientWidth}px` });
    }
  }

  // 3. controls: outside the screen, or too small to tap (WCAG 2.2 SC 2.5.8)
  const controls = [...document.querySelectorAll(CONTROLS)].filter(shown).map((el) => ({ el, box: el.getBoundingClientRect() }))
    // pushed off the screen until focused, as the skip link is
    .filter(({ box }) => box.width > 1 && box.height > 1 && box.right > 0 && box.bottom > 0);
  // a control in a box that scrolls sideways is outside the screen too until one scrolls that box; a map is the
  // exception: a floor plan is panned inside its frame (so its booths stay big enough to tap), and every booth on
  // it is also in the list below the plan, with its button on the screen
  for (const { el, box } of controls) {
    if (el.closest('.booth-plan-scroll')) continue;
    if (box.right > width + 1 || box.left < -1) {
      const where = insideScrollingBox(el) ? ', in a box that scrolls sideways' : '';
      problems.push({ check: 'control outside the screen', detail: `${describe(el)} spans ${Math.round(box.left)}–${Math.round(box.right)}px of ${width}px${where}` });
    }
  }
  const small = ({ box }) => box.width < 24 - 0.5 || box.height < 24 - 0.5;
  // the inline exception: a link inside a sentence, whose block holds more text than the link
  const inSentence = (el) => {
    if (!['inline', 'inline-block'].includes(style(el).display) || el.tagName !== 'A') return false;
    let block = el.parentElement;
    while (block && style(block).display.startsWith('inline')) block = block.parentElement;
    return block && block.innerText.replace(/\s+/g, '').length > el.innerText.replace(/\s+/g, '').length;
  };
  // the user-agent exception: native check boxes and radio buttons the author left as they are
  const nativeControl = (el) => el.tagName === 'INPUT' && ['checkbox', 'radio'].includes(el.type)
    && style(el).appearance !== 'none';
  const centre = (box) => [box.left + box.width / 2, box.top + box.height / 2];
  const distanceToBox = ([x, y], box) => Math.hypot(Math.max(box.left - x, 0, x - box.right),
    Math.max(box.top - y, 0, y - box.bottom));
  for (const target of controls.filter(small)) {
    const { el, box } = target;
    if (inSentence(el) || nativeControl(el)) continue;
    // the spacing exception: a 24 px circle on the target's centre meets no other target nor another small one's circle
    const [x, y] = centre(box);
    const crowded = controls.some((other) => other !== target && !other.el.contains(el) && !el.contains(other.el) && (
      small(other) ? Math.hypot(...centre(other.box).map((v, i) => v - [x, y][i])) < 24 : distanceToBox([x, y], other.box) < 12));
    if (crowded) {
      problems.push({ check: 'tap target', detail: `${describe(el)} is ${Math.round(box.width)}×${Math.round(box.height)}px` });
    }
  }

  // 4. axe-core: serious and critical violations
  if (axeRules) {
    const only = axeRules.length ? { runOnly: { type: 'rule', values: axeRules } } : {};
    const results = await axe.run(document, { resultTypes: ['violations'], ...only });
    for (const v of results.violations.filter((v) => ['serious', 'critical'].includes(v.impact))) {
      problems.push({ check: `axe ${v.id}`, detail: `${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}` });
    }
  }

  // what the language check reads: visible texts and the names and hints of controls; and where to go next
  const texts = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim().replace(/\s+/g, ' ');
    const parent = node.parentElement;
    // what people typed (a text area) and parts marked as written in the other language are not the page's words
    if (text && parent && !parent.closest('script, style, textarea, [translate=no]') && parent.checkVisibility()
        && parent.closest('[lang]').lang === document.documentElement.lang) texts.add(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], img[alt]')) {
    for (const name of ['aria-label', 'placeholder', 'title', 'alt']) {
      const value = (el.getAttribute(name) || '').trim();
      if (value) texts.add(value);
    }
  }
  // SVG links too (the floor plan's booths), whose href is not a string
  const links = [...document.querySelectorAll('a[href]')].map((a) => new URL(a.getAttribute('href'), location.href).href);
  return { links, texts: [...texts], problems };
}
