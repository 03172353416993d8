// Hand over an account: the administrator (or the holder) verifies, names the
// designated person, and the code mailed to that person confirms it.
import { call } from './api.js';
import { t } from './i18n.js';
import { announce, h, problemText } from './ui.js';
import { verification } from './verify.js';

function field(id, label, attrs = {}) {
  return [h('label', { for: id, text: label }), h('input', { id, name: id, ...attrs })];
}

export async function handoverView() {
  const iam = h('select', { id: 'iam_users', name: 'iam_users' },
    h('option', { value: 'reset_password', text: t('handover.iam.reset_password') }),
    h('option', { value: 'delete', text: t('handover.iam.delete') }));
  const form = h('section', { class: 'card', id: 'handover-form', 'aria-labelledby': 'handover-details' },
    h('h2', { id: 'handover-details', text: t('handover.title') }),
    ...field('account_id', t('handover.account'), { type: 'text', autocomplete: 'off' }),
    ...field('new_email', t('handover.email'), { type: 'email', required: true, autocomplete: 'off' }),
    ...field('new_phone', t('handover.phone'), { type: 'tel', autocomplete: 'off', placeholder: '+8613800000009' }),
    ...field('new_name', t('handover.name'), { type: 'text', autocomplete: 'off' }),
    h('label', { for: 'iam_users', text: t('handover.iam') }), iam);
  const confirm = h('div', { id: 'handover-confirm' });
  const value = (id) => form.querySelector(`#${id}`).value.trim();

  form.append(h('h2', { text: t('delete.verify') }), verification({
    purpose: 'handover_account', okLabel: t('handover.start'),
    onToken: async (token) => {
      if (!value('new_email')) {
        announce(t('handover.emailRequired'), 'error');
        form.querySelector('#new_email').focus();
        return;
      }
      const body = { verification_token: token, new_email: value('new_email'), iam_users: iam.value };
      for (const k of ['account_id', 'new_phone', 'new_name']) if (value(k)) body[k] = value(k);
      const answer = await call('POST', '/v1/account/handover', body);
      if (answer.status !== 202) {
        announce(problemText(answer), 'error');
        return;
      }
      announce(t('handover.awaiting', { to: answer.body.destination }), 'ok');
      confirm.replaceChildren(confirmCard(answer.body.account_id));
      confirm.querySelector('h2').focus();
    },
  }));
  return [h('h1', { text: t('handover.title') }), form, confirm];
}

function confirmCard(account) {
  const code = h('input', { id: 'handover-code', type: 'text', inputmode: 'numeric', maxlength: '6',
    autocomplete: 'one-time-code', 'aria-describedby': 'handover-code-hint' });
  const result = h('div', { id: 'handover-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', id: 'handover-confirm-form', 'aria-labelledby': 'handover-confirm-title' },
    h('h2', { id: 'handover-confirm-title', tabindex: '-1', text: t('handover.confirmTitle') }),
    h('label', { for: 'handover-code', text: t('code.label') }),
    h('div', { class: 'row' }, code, h('button', { type: 'submit', id: 'handover-confirm-ok', text: t('handover.confirm') })),
    h('p', { class: 'hint', id: 'handover-code-hint', text: t('code.hint') }),
    result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!/^[0-9]{6}$/.test(code.value.trim())) {
      result.replaceChildren(h('p', { class: 'note error', text: t('code.required') }));
      code.focus();
      return;
    }
    const answer = await call('POST', '/v1/account/handover/confirm', { code: code.value.trim(), account_id: account });
    const b = answer.body;
    if (answer.status === 200) {
      announce(t('handover.done', { id: b.account_id }), 'ok');
      result.replaceChildren(checklist(b.checklist || []));
    } else if (answer.status === 202) {
      announce(t('handover.running', { id: b.account_id }), 'ok');
      result.replaceChildren();
    } else {
      const left = b.attempts_left;
      result.replaceChildren(h('p', { class: 'note error',
        text: left !== undefined ? `${b.title} — ${t('code.attemptsLeft', { n: left })}` : problemText(answer) }));
    }
  });
  return form;
}

function checklist(items) {
  return h('table', { id: 'handover-checklist' },
    h('thead', {}, h('tr', {}, ['handover.step', 'handover.item', 'handover.result', 'handover.count'].map((k) => h('th', { text: t(k) })))),
    h('tbody', {}, items.map((c) => h('tr', {},
      h('td', { text: String(c.step) }), h('td', { text: c.item }), h('td', { text: c.done }), h('td', { text: String(c.count) })))));
}
