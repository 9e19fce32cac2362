"""What a person sees go wrong in a page's layout, measured in the browser: the page scrolling sideways, a figure
running out of its card or wrapping, text running out of a table cell, a control off the screen or smaller than a
24 × 24 px target (WCAG 2.2, 2.5.8). Browser tests assert that `layout_problems(page)` is empty."""

from __future__ import annotations

MIN_TARGET = 24

_MEASURE = """(minTarget) => {
  const problems = [];
  const width = window.innerWidth;
  const name = (el) => (el.getAttribute('aria-label') || el.textContent || el.value || el.name || el.tagName)
    .trim().replace(/\\s+/g, ' ').slice(0, 60);
  const shown = (el) => el.checkVisibility({visibilityProperty: true}) && el.getBoundingClientRect().width > 0
    && !el.closest('.visually-hidden, .skip-link');
  const pageWidth = document.documentElement.scrollWidth;
  if (pageWidth > width + 1) problems.push(`the page is ${pageWidth}px wide on a ${width}px screen`);
  document.querySelectorAll('.stat').forEach((card) => {
    const box = card.getBoundingClientRect();
    card.querySelectorAll('.stat-value').forEach((figure) => {
      const rect = figure.getBoundingClientRect();
      const lineHeight = parseFloat(getComputedStyle(figure).lineHeight);
      if (figure.scrollWidth > figure.clientWidth + 1 || rect.right > box.right + 0.5 || rect.left < box.left - 0.5)
        problems.push(`figure "${name(figure)}" runs out of its card`);
      if (rect.height > lineHeight * 1.5) problems.push(`figure "${name(figure)}" wraps onto a second line`);
      const range = document.createRange();
      range.selectNodeContents(figure);
      const text = range.getBoundingClientRect();
      if (text.right > box.right + 0.5) problems.push(`figure "${name(figure)}" is wider than its card`);
    });
  });
  document.querySelectorAll('td, th').forEach((cell) => {
    if (shown(cell) && cell.scrollWidth > cell.clientWidth + 1) problems.push(`text runs out of cell "${name(cell)}"`);
  });
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  document.querySelectorAll(controls).forEach((control) => {
    if (!shown(control) || control.closest('svg')) return;
    const rect = control.getBoundingClientRect();
    if (rect.left < -1 || rect.right > width + 1)
      problems.push(`control "${name(control)}" is outside the screen `
        + `(${Math.round(rect.left)}–${Math.round(rect.right)}px)`);
    // WCAG's exception: a link inside a sentence is as tall as the sentence's line.
    const inSentence = control.tagName === 'A' && getComputedStyle(control).display === 'inline'
      && control.parentElement.textContent.trim().length > control.textContent.trim().length;
    if (!inSentence && (rect.width < minTarget - 0.5 || rect.height < minTarget - 0.5))
      problems.push(`target "${name(control)}" is ${Math.round(rect.width)}×${Math.round(rect.height)}px`);
  });
  return problems;
}"""


def layout_problems(page) -> list[str]:
    return page.evaluate(_MEASURE, MIN_TARGET)


def header_rows(page) -> int:
    """How many rows the header's brand, menu and account links take."""
    return page.evaluate("""() => {
      const items = [document.querySelector('.brand'), ...document.querySelectorAll('#site-nav li')]
        .filter((el) => el && el.getBoundingClientRect().height > 0);
      const rows = [];
      items.forEach((el) => {
        const r = el.getBoundingClientRect();
        const middle = (r.top + r.bottom) / 2;
        if (!rows.some((row) => Math.abs(row - middle) < r.height / 2)) rows.push(middle);
      });
      return rows.length;
    }""")
