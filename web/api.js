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

// How this stack signs people in: {mode: 'local'}, or {mode: 'cognito', client_id, ...} with a user pool.
export async function identityProvider() {
  const res = await fetch('/_local/idp');
  return res.ok ? res.json() : { mode: 'local' };
}

// One cognito-idp call, as the Amplify libraries make it, through the local API's /_local/cognito-idp
// (the page's own origin); a refusal throws with the pool's message (e.g. the pre sign-up trigger's).
async function cognito(action, body) {
  const res = await fetch('/_local/cognito-idp', {
    method: 'POST',
    headers: { 'x-amz-target': `AWSCognitoIdentityProviderService.${action}`, 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || data.__type || `HTTP ${res.status}`);
  return data;
}

function claimsOf(token) {
  const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
}

// The user pool's password sign-in: the session's account is the access token's sub.
export async function signInWithPassword(pool, username, password) {
  const answer = await cognito('InitiateAuth', {
    ClientId: pool.client_id, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  const token = answer.AuthenticationResult.AccessToken;
  current = { account: claimsOf(token).sub, client: pool.client_id, token, username };
  localStorage.setItem('session', JSON.stringify(current));
  return current;
}

// Sign-up, then its confirmation with the code the pool mailed (moto takes any code).
export async function signUp(pool, username, email, password, code) {
  await cognito('SignUp', {
    ClientId: pool.client_id, Username: username, Password: password, UserAttributes: [{ Name: 'email', Value: email }],
  });
  await cognito('ConfirmSignUp', { ClientId: pool.client_id, Username: username, ConfirmationCode: code });
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
