// Send Code, the code field and OK: the verification every sensitive step
// starts with. Shows the cooldown (resend_after_seconds or Retry-After) and the
// attempts left; hands the verification token to onToken. `sent`: a send-code
// answer the caller already had (the code field shows at once); `gone`: told of
// an account_deleted answer instead of the message.
import { call } from './api.js';
import { t } from './i18n.js';
import { h, problemText } from './ui.js';

export function verification({ purpose, okLabel, onToken, id = purpose, sent = null, gone = null }) {
  const message = h('p', { class: 'hint', id: `${id}-message`, role: 'status', 'aria-live': 'polite' });
  const send = h('button', { type: 'button', class: 'secondary', id: `${id}-send`, text: t('code.send') });
  const input = h('input', {
    type: 'text', id: `${id}-code`, name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code',
    maxlength: '6', pattern: '[0-9]{6}', 'aria-describedby': `${id}-hint ${id}-message`,
  });
  const ok = h('button', { type: 'submit', id: `${id}-ok`, text: okLabel });
  let timer = null;

  function cooldown(seconds) {
    clearInterval(timer);
    let left = Math.max(1, Number(seconds) || 0);
    send.disabled = true;
    send.textContent = t('code.resendIn', { s: left });
    timer = setInterval(() => {
      left -= 1;
      if (left <= 0 || !send.isConnected) {
        clearInterval(timer);
        send.disabled = false;
        send.textContent = t('code.send');
      } else {
        send.textContent = t('code.resendIn', { s: left });
      }
    }, 1000);
  }

  function accepted(b) {
    message.textContent = t('code.sent', { to: b.destination, min: Math.round(b.expires_in_seconds / 60) });
    cooldown(b.resend_after_seconds);
  }

  const isGone = (answer) => gone && answer.status === 410 && answer.body.code === 'account_deleted';

  send.addEventListener('click', async () => {
    send.disabled = true;
    const answer = await call('POST', '/v1/verification-codes', { purpose });
    if (answer.status === 202) {
      accepted(answer.body);
      input.focus();
    } else if (isGone(answer)) {
      gone(answer);
    } else {
      message.textContent = problemText(answer);
      const retry = answer.headers.get('retry-after');
      if (answer.status === 429 && retry) cooldown(retry);
      else send.disabled = false;
    }
  });

  const form = h('form', { class: 'verification', novalidate: true },
    h('div', { class: 'row' }, send),
    h('label', { for: `${id}-code`, text: t('code.label') }),
    h('div', { class: 'row' }, input, ok),
    h('p', { class: 'hint', id: `${id}-hint`, text: t('code.hint') }),
    message);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = input.value.trim();
    if (!/^[0-9]{6}$/.test(code)) {
      message.textContent = t('code.required');
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    ok.disabled = true;
    const answer = await call('POST', '/v1/verification-codes/verify', { purpose, code });
    ok.disabled = false;
    if (answer.status === 200) {
      message.textContent = '';
      await onToken(answer.body.verification_token);
      return;
    }
    if (isGone(answer)) {
      gone(answer);
      return;
    }
    const left = answer.body.attempts_left;
    message.textContent = left !== undefined
      ? `${answer.body.title} — ${t('code.attemptsLeft', { n: left })}`
      : problemText(answer);
    input.setAttribute('aria-invalid', 'true');
    input.select();
  });
  if (sent) accepted(sent);
  return form;
}
