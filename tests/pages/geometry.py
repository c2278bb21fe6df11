"""Checks of what a page looks like, shared by the browser tests of the pages."""

from __future__ import annotations

from typing import Any

# Text nodes that stick out of a box that clips them (overflow not visible), or out of the
# window: cut-off, overlapping or ellipsised text.
OVERFLOW_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const W = window.innerWidth, H = window.innerHeight, flow = !!document.querySelector('.ioc-flow');
  let n;
  while ((n = walker.nextNode())) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (!el || el.closest('script,style,noscript,svg')) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const text = n.textContent.trim().slice(0, 40);
    if (r.left < -1 || r.right > W + 1 || (!flow && r.bottom > H + 1)) {
      out.push({text, why: 'outside the window'}); continue;
    }
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const b = a.getBoundingClientRect();
      // sideways by a pixel is cut-off text; up or down, a font's line box is taller than its
      // glyphs, so only a third of the line outside counts
      const v = Math.max(b.top - r.top, r.bottom - b.bottom);
      if (r.left < b.left - 1 || r.right > b.right + 1 || v > r.height / 3) {
        out.push({text, why: 'clipped by ' + a.tagName + '.' + a.className,
                  box: [b.left, b.top, b.right, b.bottom].map(Math.round),
                  text_box: [r.left, r.top, r.right, r.bottom].map(Math.round)});
        break;
      }
    }
  }
  return out;
}"""


def scroll_sizes(page: Any) -> tuple[int, int, int, int]:
    """``(scrollWidth, scrollHeight, innerWidth, innerHeight)``: a scrollbar is a size past the window."""
    return tuple(page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement"
                               ".scrollHeight, window.innerWidth, window.innerHeight]"))
