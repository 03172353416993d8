// Download your data (seed 002: "make sure you have a data backup before deleting
// the account"): an export_data code, then the export is prepared, its progress
// polled, and its link offered, here and by mail. The last export's id is kept
// per account, so coming back to the page shows it again while its link lives.
import { call, session } from './api.js';
import { t } from './i18n.js';
import { announce, h, problemText } from './ui.js';
import { verification } from './verify.js';

const POLL_MS = 2000;

function remembered() {
  return localStorage.getItem(`export:${session()?.account}`);
}

function remember(id) {
  localStorage.setItem(`export:${session()?.account}`, id);
}

export async function exportCard() {
  const state = h('div', { id: 'export-state', role: 'status', 'aria-live': 'polite' });
  const card = h('section', { class: 'card', id: 'export', 'aria-labelledby': 'export-title' },
    h('h2', { id: 'export-title', text: t('export.title') }),
    h('p', { text: t('export.intro') }),
    state);
  const form = verification({
    purpose: 'export_data', okLabel: t('export.ok'),
    onToken: async (token) => {
      const answer = await call('POST', '/v1/account/data-export', { verification_token: token });
      if (answer.status === 200 || answer.status === 202) {
        remember(answer.body.export_id);
        follow(state, answer.body);
      } else {
        announce(problemText(answer), 'error');
      }
    },
  });
  card.append(form);
  const last = remembered();
  if (last) {
    const answer = await call('GET', `/v1/account/data-export/${encodeURIComponent(last)}`);
    if (answer.status === 200 && answer.body.status !== 'expired') follow(state, answer.body);
  }
  return card;
}

// Shows where the export stands; while it is prepared, asks again until it is ready.
function follow(state, exp) {
  if (exp.status === 'ready' && exp.download_url) {
    const until = new Date(exp.expires_at).toLocaleString(document.documentElement.lang);
    state.replaceChildren(
      h('p', { class: 'note ok', id: 'export-ready', text: t('export.ready', { at: until }) }),
      h('p', {}, h('a', { id: 'export-link', class: 'button', href: exp.download_url, download: `${exp.export_id}.json`,
        text: t('export.download') })));
    return;
  }
  if (exp.status === 'expired') {
    state.replaceChildren(h('p', { class: 'note', id: 'export-expired', text: t('export.expired') }));
    return;
  }
  state.replaceChildren(
    h('p', { class: 'note', id: 'export-preparing', text: t('export.preparing') }),
    h('progress', { id: 'export-progress', 'aria-label': t('export.preparing') }));
  setTimeout(async () => {
    if (!state.isConnected) return;
    const answer = await call('GET', `/v1/account/data-export/${encodeURIComponent(exp.export_id)}`);
    if (answer.status === 200) follow(state, answer.body);
    else state.replaceChildren(h('p', { class: 'note error', text: problemText(answer) }));
  }, POLL_MS);
}
