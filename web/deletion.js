// Delete account: the prerequisites with each blocker's detail and action,
// the default administrator's dismissal first, then Send Code, the code, OK;
// with a grace period, the scheduled deletion and its cancellation, also
// offered when the account answers account_deleted (signed in again, another tab).
import { call, localAccounts, session, signOut } from './api.js';
import { blockerText, t } from './i18n.js';
import { endSession, go } from './nav.js';
import { announce, h, problemText } from './ui.js';
import { verification } from './verify.js';
import { exportCard } from './export.js';

export async function deletionView() {
  const prerequisites = h('section', { class: 'card', id: 'prerequisites', 'aria-labelledby': 'prereq-title' });
  const actions = h('div', { id: 'deletion-actions' });
  await refresh(prerequisites, actions);
  // The copy comes before the deletion: a deleted account cannot be recovered.
  const backup = await exportCard();
  return [h('h1', { text: t('delete.title') }), h('p', { class: 'note', text: t('delete.warning') }), backup, prerequisites, actions];
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
    blockerList(blockers),
    h('p', { class: 'hint', id: 'backup-advice', text: t('delete.backupAdvised') }),
    h('div', { class: 'row' }, again));
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
        actions.replaceChildren(scheduledCard(b));
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

function scheduledCard(scheduled) {
  const at = new Date(scheduled.purge_at).toLocaleString(document.documentElement.lang);
  const card = h('section', { class: 'card', id: 'scheduled', 'aria-labelledby': 'scheduled-title' },
    h('h2', { id: 'scheduled-title', tabindex: '-1', text: t('delete.cancelTitle') }),
    h('p', { class: 'note', id: 'scheduled-note', text: t('delete.scheduled', { at }) }));
  card.append(verification({ purpose: 'cancel_deletion', okLabel: t('delete.cancel'), onToken: cancel, gone }));
  return card;
}

// The cancellation with a cancel_deletion token: active again, its prerequisites show.
async function cancel(token) {
  const answer = await call('POST', '/v1/account/deletion/cancellation', { verification_token: token });
  if (answer.status === 200) go('#/delete', t('delete.cancelled'), 'ok');
  else if (answer.status === 410 && answer.body.code === 'account_deleted') gone();
  else if (answer.status === 409) go('#/delete', problemText(answer));
  else announce(problemText(answer), 'error');
}

// Purged (or never scheduled with a grace period): nothing left to cancel.
function gone() {
  endSession(t('deleted.gone', { id: session()?.account || '' }));
}

// What an account that answered account_deleted sees (app.js routes here): the
// offer to cancel; send-code with cancel_deletion tells a grace period (202)
// from a deletion for good (410).
export async function deletedView() {
  const offer = h('button', { type: 'button', id: 'cancel-offer', text: t('deleted.cancel') });
  const back = h('button', { type: 'button', class: 'secondary', id: 'deleted-back', text: t('deleted.back'),
    onclick: () => { signOut(); go('#/sign-in'); } });
  const message = h('p', { class: 'hint', id: 'cancel-offer-message', role: 'status', 'aria-live': 'polite' });
  const card = h('section', { class: 'card', id: 'cancel-offer-card', 'aria-labelledby': 'cancel-offer-title' },
    h('h2', { id: 'cancel-offer-title', text: t('deleted.cancelTitle') }),
    h('p', { text: t('deleted.intro', { id: session().account }) }),
    h('div', { class: 'row' }, offer, back), message);
  offer.addEventListener('click', async () => {
    offer.disabled = true;
    const answer = await call('POST', '/v1/verification-codes', { purpose: 'cancel_deletion' });
    if (answer.status === 202) {
      const form = verification({ purpose: 'cancel_deletion', okLabel: t('delete.cancel'), onToken: cancel, gone, sent: answer.body });
      card.replaceChildren(card.firstChild, h('p', { class: 'note', id: 'cancel-offer-note', text: t('deleted.inGrace') }), form,
        h('div', { class: 'row' }, back));
      form.querySelector('input').focus();
    } else if (answer.status === 410 && answer.body.code === 'account_deleted') {
      gone();
    } else if (answer.status === 409) {
      go('#/delete', problemText(answer));
    } else {
      message.textContent = problemText(answer);
      offer.disabled = false;
    }
  });
  return [h('h1', { text: t('deleted.title') }), card];
}
