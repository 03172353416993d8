// The console's screens (seed 000: profile > Account and security > Delete
// account), routed by the URL's hash: #/sign-in, #/account, #/delete,
// #/deleted, #/handover, #/mailbox. Each view builds its elements; route shows the newest.
import {
  call, identityProvider, localAccounts, localMail, on, session, signIn, signInWithPassword, signOut, signUp,
} from './api.js';
import { deletedView, deletionView } from './deletion.js';
import { handoverView } from './handover.js';
import { language, setLanguage, t, translatePage } from './i18n.js';
import { endSession, go, pendingNote, setRouter, takeNote } from './nav.js';
import { announce, clearAnnouncement, h, show } from './ui.js';

const views = {
  '#/sign-in': signInView,
  '#/account': accountView,
  '#/delete': deletionView,
  '#/deleted': deletedView,
  '#/handover': handoverView,
  '#/mailbox': mailboxView,
};
const open = new Set(['#/sign-in', '#/mailbox']);

let generation = 0;

// Deleted, or its deletion scheduled: still signed in, so that a deletion in
// its grace period can be cancelled; #/deleted handles its own answers.
on('deleted', () => {
  if (location.hash !== '#/deleted') go('#/deleted');
});
on('unauthorized', (answer) => {
  if (answer.body && (answer.body.message === 'Unauthorized' || answer.body.code === 'session_revoked')) {
    endSession(answer.body.code ? `${answer.body.title}: ${answer.body.detail}` : t('error.unauthorized'));
  }
});

function header() {
  const s = session();
  document.getElementById('who').textContent = s ? t('signIn.as', { id: s.account }) : '';
  document.getElementById('sign-out').hidden = !s;
}

// Shows the view of the URL's hash; a view still loading when another is
// asked for is dropped.
async function route() {
  const mine = ++generation;
  const hash = views[location.hash] ? location.hash : session() ? '#/account' : '#/sign-in';
  if (!open.has(hash) && !session()) return go('#/sign-in');
  if (!pendingNote()) clearAnnouncement();
  translatePage();
  header();
  const children = await views[hash]();
  if (mine !== generation) return;
  show(...children);
  const pending = takeNote();
  if (pending) announce(pending.note, pending.kind);
}

// With a user pool: sign in with a user name and password, or sign up, as on AWS.
async function poolSignInView(pool) {
  const field = (id, label, type = 'text', value = '') => [h('label', { for: id, text: label }),
    h('input', { id, type, value, autocomplete: type === 'password' ? 'current-password' : 'off', required: true })];
  const value = (id) => document.getElementById(id).value.trim();
  const enter = async (username, password) => {
    await signInWithPassword(pool, username, password);
    clearAnnouncement();
    const answer = await call('GET', '/v1/account/deletion-prerequisites');
    if (!(answer.status === 410 && answer.body.code === 'account_deleted')) go('#/account');
  };
  const attempt = (fn) => async (e) => {
    e.preventDefault();
    try {
      await fn();
    } catch (error) {
      announce(t('pool.refused', { message: error.message }), 'error');
    }
  };
  return [h('h1', { text: t('signIn.title') }),
    h('form', { class: 'card', id: 'pool-sign-in', onsubmit: attempt(() => enter(value('username'), document.getElementById('password').value)) },
      h('p', { text: t('pool.intro') }),
      field('username', t('pool.username')), field('password', t('pool.password'), 'password'),
      h('div', { class: 'row' }, h('button', { type: 'submit', id: 'sign-in', text: t('pool.signIn') }))),
    h('form', {
      class: 'card', id: 'pool-sign-up',
      onsubmit: attempt(async () => {
        const password = document.getElementById('new-password').value;
        await signUp(pool, value('new-username'), value('new-email'), password, value('code'));
        await enter(value('new-username'), password);
      }),
    },
    h('h2', { text: t('pool.signUp') }),
    field('new-username', t('pool.username')), field('new-email', t('pool.email'), 'email'),
    field('new-password', t('pool.password'), 'password'), field('code', t('pool.code'), 'text', '000000'),
    h('p', { class: 'hint', text: t('pool.codeHint') }),
    h('div', { class: 'row' }, h('button', { type: 'submit', id: 'sign-up', text: t('pool.signUp') })))];
}

async function signInView() {
  const pool = await identityProvider();
  if (pool.mode === 'cognito') return poolSignInView(pool);
  const accounts = await localAccounts();
  const client = h('select', { id: 'client' },
    h('option', { value: 'web-console', text: 'web-console' }),
    h('option', { value: 'mobile-app', text: 'mobile-app' }));
  const list = h('ul', { class: 'accounts', 'aria-label': t('signIn.title') });
  for (const a of accounts) {
    const gone = a.status && a.status !== 'active';
    const meta = [t(`role.${a.role}`), a.enterprise_id, a.locale, gone ? t('signIn.deleted') : null].filter(Boolean).join(' · ');
    list.append(h('li', {}, h('button', {
      type: 'button', 'data-account': a.account_id,
      onclick: async () => {
        await signIn(a.account_id, client.value);
        clearAnnouncement();
        // The account's state at sign-in: an account_deleted answer opens #/deleted (the listener above).
        const answer = await call('GET', '/v1/account/deletion-prerequisites');
        if (!(answer.status === 410 && answer.body.code === 'account_deleted')) go('#/account');
      },
    }, a.account_id, h('span', { class: 'meta', text: meta }))));
  }
  return [h('h1', { text: t('signIn.title') }),
    h('div', { class: 'card' },
      h('p', { text: t('signIn.intro') }),
      h('label', { for: 'client', text: t('signIn.client') }), client,
      accounts.length ? list : h('p', { text: t('signIn.none') }))];
}

async function accountView() {
  const s = session();
  const me = (await localAccounts()).find((a) => a.account_id === s.account) || {};
  const none = t('account.none');
  return [h('h1', { text: t('account.title') }),
    h('div', { class: 'card' }, h('dl', { class: 'facts' },
      h('dt', { text: t('account.id') }), h('dd', { text: s.account }),
      h('dt', { text: t('account.role') }), h('dd', { text: me.role ? t(`role.${me.role}`) : none }),
      h('dt', { text: t('account.enterprise') }), h('dd', { text: me.enterprise_id || none }),
      h('dt', { text: t('account.email') }), h('dd', { text: me.email || none }),
      h('dt', { text: t('signIn.client') }), h('dd', { text: s.client }))),
    h('div', { class: 'card' },
      h('h2', {}, h('a', { href: '#/delete', id: 'go-delete', text: t('account.delete') })),
      h('p', { class: 'hint', text: t('account.deleteHint') })),
    h('div', { class: 'card' },
      h('h2', {}, h('a', { href: '#/handover', id: 'go-handover', text: t('account.handover') })),
      h('p', { class: 'hint', text: t('account.handoverHint') }))];
}

async function mailboxView() {
  const mail = (await localMail()).reverse();
  const rows = mail.map((m) => h('tr', {},
    h('td', { text: (m.to || []).join(', ') }),
    h('td', { text: m.subject || '' }),
    h('td', { class: 'mail' }, h('iframe', { sandbox: '', title: m.subject || '', srcdoc: m.body || '' }))));
  return [h('h1', { text: t('mailbox.title') }),
    h('p', { text: t('mailbox.intro') }),
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', onclick: route, text: t('mailbox.refresh') })),
    mail.length
      ? h('table', { id: 'mailbox' },
        h('thead', {}, h('tr', {}, h('th', { text: t('mailbox.to') }), h('th', { text: t('mailbox.subject') }), h('th', { text: t('mailbox.body') }))),
        h('tbody', {}, rows))
      : h('p', { text: t('mailbox.empty') })];
}

document.getElementById('language').value = language();
document.getElementById('language').addEventListener('change', (e) => {
  setLanguage(e.target.value);
  route();
});
document.getElementById('sign-out').addEventListener('click', () => {
  signOut();
  go('#/sign-in');
});
window.addEventListener('hashchange', route);
setRouter(route);
route();
