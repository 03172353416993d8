// The signed-in session and the calls to the API, as the console makes them:
// the JWT in Authorization, the page's language in Accept-Language.
import { language } from './i18n.js';

let current = JSON.parse(localStorage.getItem('session') || 'null');
const listeners = { deleted: [], unauthorized: [] };

export function session() {
  return current;
}

export function on(event, fn) {
  listeners[event].push(fn);
}

// The local identity provider (/_local/token) signs a JWT for the account.
export async function signIn(account, client) {
  const q = new URLSearchParams({ account, client });
  const res = await fetch(`/_local/token?${q}`);
  if (!res.ok) throw new Error(`token: ${res.status}`);
  const { token } = await res.json();
  current = { account, client, token };
  localStorage.setItem('session', JSON.stringify(current));
  return current;
}

export function signOut() {
  current = null;
  localStorage.removeItem('session');
}

// {status, body, headers}; an account_deleted or a refused token also tells
// the listeners (the page offers the cancellation, or signs out), whatever view asked.
export async function call(method, path, body) {
  const headers = { 'accept-language': language() };
  if (current) headers.authorization = `Bearer ${current.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    // The account's state now: a 410 is cacheable by default, and a cancelled deletion must not be read from it.
    res = await fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    return { status: 0, body: {}, headers: new Headers() };
  }
  const data = await res.json().catch(() => ({}));
  const answer = { status: res.status, body: data, headers: res.headers };
  if (res.status === 410 && data.code === 'account_deleted') listeners.deleted.forEach((fn) => fn(answer));
  if (res.status === 401) listeners.unauthorized.forEach((fn) => fn(answer));
  return answer;
}

export async function localAccounts() {
  const res = await fetch('/_local/accounts');
  return res.ok ? res.json() : [];
}

export async function localMail() {
  const res = await fetch('/_local/mail');
  return res.ok ? res.json() : [];
}
