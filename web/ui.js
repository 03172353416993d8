// Small DOM helpers: elements, notes in the live region, focus on a new view.
import { t } from './i18n.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

// A note in the page's live region (read out by screen readers).
export function announce(text, kind = 'info') {
  const status = document.getElementById('status');
  status.replaceChildren(h('p', { class: `note ${kind}`, text }));
}

export function clearAnnouncement() {
  document.getElementById('status').replaceChildren();
}

// The view's heading takes the focus, so keyboard and screen reader users start there.
export function show(...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

// A problem (RFC 9457) as the API wrote it in the page's language, or the gateway's own message.
export function problemText(answer) {
  const b = answer.body || {};
  if (answer.status === 0) return t('error.network');
  if (b.title) return b.detail ? `${b.title}: ${b.detail}` : b.title;
  return t('error.gateway', { status: answer.status, message: b.message || '' });
}
