// Delete account: the prerequisites with each blocker's detail and action,
// the default administrator's dismissal first, then Send Code, the code, OK;
// with a grace period, the scheduled deletion and its cancellation.
import { call, localAccounts, session } from './api.js';
import { endSession, go } from './app.js';
import { blockerText, t } from './i18n.js';
import { announce, h, problemText } from './ui.js';
import { verification } from './verify.js';

export async function deletionView() {
  const prerequisites = h('section', { class: 'card', id: 'prerequisites', 'aria-labelledby': 'prereq-title' });
  const actions = h('div', { id: 'deletion-actions' });
  await refresh(prerequisites, actions);
  return [h('h1', { text: t('delete.title') }), h('p', { class: 'note', text: t('delete.warning') }), prerequisites, actions];
}

async function refresh(prerequisites, actions) {
  const answer = await call('GET', '/v1/account/deletion-prerequisites');
  const heading = h('h2', { id: 'prereq-title', text: t('delete.prereq') });
  const again = h('button', { type: 'button', class: 'secondary', id: 'check-again', text: t('delete.checkAgain'),
    onclick: () => refresh(prerequisites, actions) });
  if (answer.status !== 200) {
    prerequisites.replaceChildren(heading, h('p', { class: 'note error', text: problemText(answer) }), again);
    actions.replaceChildren();
    return;
  }
  const { blockers, deletable } = answer.body;
  prerequisites.replaceChildren(heading,
    deletable ? h('p', { class: 'note ok', id: 'deletable', text: t('delete.deletable') }) : h('p', { text: t('delete.blocked') }),
    blockerList(blockers), h('div', { class: 'row' }, again));
  actions.replaceChildren();
  if (blockers.some((b) => b.kind === 'enterprise_not_dismissed')) {
    actions.append(await dismissalCard(() => refresh(prerequisites, actions)));
  }
  if (deletable) actions.append(deletionCard(actions, () => refresh(prerequisites, actions)));
}

export function blockerList(blockers) {
  return h('ul', { class: 'blockers', id: 'blockers' }, blockers.map((b) => {
    const text = blockerText(b);
    return h('li', { 'data-kind': b.kind },
      h('div', { class: 'kind', text: text.title }),
      h('div', { class: 'detail', text: text.detail }),
      h('div', { class: 'action', text: text.action }));
  }));
}

async function dismissalCard(done) {
  const me = (await localAccounts()).find((a) => a.account_id === session().account) || {};
  const ent = me.enterprise_id || '';
  const card = h('section', { class: 'card', id: 'dismissal', 'aria-labelledby': 'dismissal-title' },
    h('h2', { id: 'dismissal-title', text: t('dismiss.title') }),
    h('p', { text: t('dismiss.intro', { ent }) }));
  card.append(verification({
    purpose: 'dismiss_enterprise', okLabel: t('dismiss.ok'),
    onToken: async (token) => {
      const answer = await call('POST', '/v1/enterprise/dismissal', { verification_token: token });
      if (answer.status === 200) announce(t('dismiss.done', { ent, n: answer.body.members_released }), 'ok');
      else if (answer.status === 202) announce(t('dismiss.pending', { ent }), 'ok');
      else announce(problemText(answer), 'error');
      await done();
    },
  }));
  return card;
}

function deletionCard(actions, done) {
  const card = h('section', { class: 'card', id: 'deletion', 'aria-labelledby': 'deletion-title' },
    h('h2', { id: 'deletion-title', text: t('delete.verify') }));
  card.append(verification({
    purpose: 'delete_account', okLabel: t('delete.ok'),
    onToken: async (token) => {
      const answer = await call('POST', '/v1/account/deletion', { verification_token: token });
      const b = answer.body;
      if (answer.status === 200) {
        endSession(t('delete.done', { id: b.account_id, receipt: b.receipt_id }), 'ok');
      } else if (answer.status === 202 && b.status === 'deletion_scheduled') {
        // Locked now: its prerequisites no longer apply; only the cancellation does.
        document.getElementById('prerequisites')?.remove();
        actions.replaceChildren(scheduledCard(b, done));
        actions.querySelector('h2').focus();
      } else if (answer.status === 202) {
        endSession(t('delete.deleting'), 'ok');
      } else {
        announce(problemText(answer), 'error');
        await done();
      }
    },
  }));
  return card;
}

function scheduledCard(scheduled, done) {
  const at = new Date(scheduled.purge_at).toLocaleString(document.documentElement.lang);
  const card = h('section', { class: 'card', id: 'scheduled', 'aria-labelledby': 'scheduled-title' },
    h('h2', { id: 'scheduled-title', tabindex: '-1', text: t('delete.cancelTitle') }),
    h('p', { class: 'note', id: 'scheduled-note', text: t('delete.scheduled', { at }) }));
  card.append(verification({
    purpose: 'cancel_deletion', okLabel: t('delete.cancel'),
    onToken: async (token) => {
      const answer = await call('POST', '/v1/account/deletion/cancellation', { verification_token: token });
      if (answer.status === 200) {
        go('#/delete', t('delete.cancelled'), 'ok');
      } else if (answer.status === 404 && answer.body.message) {
        announce(t('delete.noCancelRoute'), 'error');
      } else {
        announce(problemText(answer), 'error');
      }
    },
  }));
  return card;
}
