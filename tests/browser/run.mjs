// The web client in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), through the real local stack: `scripts/dev up` on API_PORT,
// with tests/browser/fixtures.json freshly seeded (tests/browser/run.sh does both).
// Walks seed 000 (the default administrator dismisses then deletes; a member
// deletes while a second tab is open, which is told at its next request),
// seed 002's user with a balance left, a handover, and with a grace period a
// deletion cancelled in its tab and one cancelled after signing in again.
// Each step's screenshot goes to docs/screenshots/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { chromium } from 'playwright-core';

const API = `http://127.0.0.1:${process.env.API_PORT || 3000}`;
// Not under a watched folder: cargo lambda watch restarts the functions on any change there.
const SHOTS = process.env.SCREENSHOT_DIR || new URL('../../.stack/screenshots/', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let browser;
let context;

// One browser (Playwright gives it a fresh --user-data-dir of its own), one
// context a journey: the tabs of a journey share its storage, as a person's do.
before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US' });
});

after(async () => {
  await browser?.close();
});

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const pageErrors = [];

async function newPage(inContext = context) {
  const page = await inContext.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
}

afterEach(async () => {
  await context.close();
  assert.deepEqual(pageErrors.splice(0), [], 'no script error in the page');
});

// The newest code mailed to `to`, read from the local mailbox.
async function codeFor(to) {
  const mail = await (await fetch(`${API}/_local/mail`)).json();
  const last = mail.filter((m) => m.to.includes(to)).pop();
  assert.ok(last, `a mail to ${to}`);
  const m = /(?:code is|验证码是) (\d{6})/.exec(last.body);
  assert.ok(m, `a code in: ${last.subject}`);
  return m[1];
}

async function signIn(page, account, language = 'en') {
  await page.goto(`${API}/#/sign-in`);
  await page.selectOption('#language', language);
  await page.click(`button[data-account="${account}"]`);
  await page.waitForSelector('#go-delete');
  await page.waitForLoadState('networkidle');
}

// Send Code, read the mail, type the code, OK, within the card `scope`.
async function verify(page, scope, purpose, to) {
  await page.click(`${scope} #${purpose}-send`);
  await page.waitForSelector(`${scope} #${purpose}-send:disabled`);
  await page.waitForFunction((sel) => /\d/.test(document.querySelector(sel).textContent), `${scope} #${purpose}-send`);
  await page.fill(`${scope} #${purpose}-code`, await codeFor(to));
  await page.click(`${scope} #${purpose}-ok`);
}

async function announced(page, pattern) {
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status').textContent), pattern.source);
  return page.textContent('#status');
}

test('seed 000: the default administrator dismisses the enterprise, then deletes the account', async () => {
  const page = await newPage();
  await page.goto(`${API}/`);
  await page.waitForSelector('button[data-account="alice"]');
  await shot(page, '01-sign-in');
  await signIn(page, 'alice');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1', 'the new view has the focus');
  await shot(page, '02-account-and-security');

  await page.click('#go-delete');
  await page.waitForSelector('#blockers li[data-kind="enterprise_not_dismissed"]');
  assert.equal(await page.locator('#deletion').count(), 0, 'no deletion while a blocker is left');
  await shot(page, '03-prerequisites-enterprise-not-dismissed');

  // A wrong code first: the attempts left are shown.
  await page.click('#dismissal #dismiss_enterprise-send');
  await page.waitForFunction(() => /Resend in \d+ s/.test(document.querySelector('#dismiss_enterprise-send').textContent));
  const right = await codeFor('alice@example.com');
  await page.fill('#dismiss_enterprise-code', right === '000000' ? '111111' : '000000');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Attempts left: 4/.test(document.querySelector('#dismiss_enterprise-message').textContent));
  await shot(page, '04-wrong-code-attempts-left');
  await page.fill('#dismiss_enterprise-code', right);
  await page.click('#dismiss_enterprise-ok');
  assert.match(await announced(page, /dismissed/), /Enterprise ent-acme was dismissed; 1 members released/);
  await page.waitForSelector('#deletable');
  await shot(page, '05-dismissed-now-deletable');

  await verify(page, '#deletion', 'delete_account', 'alice@example.com');
  assert.match(await announced(page, /was deleted/), /Account alice was deleted \(receipt .+\)\. You are signed out\./);
  await page.waitForSelector('button[data-account="bob"]');
  assert.equal(await page.evaluate(() => localStorage.getItem('session')), null);
  await shot(page, '06-deleted-back-to-sign-in');
  await page.close();
});

test('seed 000: a member deletes; the second open tab is told at its next request', async () => {
  const tab1 = await newPage();
  await signIn(tab1, 'bob');
  const tab2 = await newPage();
  await tab2.goto(`${API}/#/account`);
  await tab2.waitForSelector('#go-delete');

  await tab1.click('#go-delete');
  await tab1.waitForSelector('#deletable');
  await verify(tab1, '#deletion', 'delete_account', 'bob@example.com');
  await announced(tab1, /Account bob was deleted/);

  // Told, and offered the cancellation; a deletion without a grace period is for good.
  await tab2.bringToFront();
  await tab2.click('#go-delete');
  await tab2.waitForSelector('#cancel-offer');
  assert.equal(await tab2.evaluate(() => document.activeElement.textContent), 'Account deleted or scheduled for deletion');
  assert.match(await tab2.textContent('#cancel-offer-card'), /Account bob was deleted, or its deletion is scheduled/);
  await shot(tab2, '07-second-tab-told-deleted');
  await tab2.selectOption('#language', 'zh-CN');
  await tab2.waitForFunction(() => document.querySelector('h1')?.textContent === '账号已注销或已安排注销');
  assert.equal(await tab2.textContent('#cancel-offer'), '撤销已安排的注销');
  await tab2.selectOption('#language', 'en');
  await tab2.waitForSelector('#cancel-offer:has-text("Cancel the scheduled deletion")');
  await tab2.click('#cancel-offer');
  assert.match(await announced(tab2, /for good/), /Account bob is deleted for good and cannot be restored\. You are signed out\./);
  await tab2.waitForSelector('button[data-account="dave"]');
  assert.equal(await tab2.evaluate(() => localStorage.getItem('session')), null);
  await tab1.close();
  await tab2.close();
});

test('seed 002: a user with a balance left sees the blocker, its detail and action, and cannot delete', async () => {
  const page = await newPage();
  await signIn(page, 'dave');
  await page.click('#go-delete');
  const blocker = page.locator('#blockers li[data-kind="account_balance"]');
  await blocker.waitFor();
  assert.match(await blocker.textContent(), /12\.30 CNY left/);
  assert.match(await blocker.textContent(), /Withdraw or use up the balance/);
  assert.equal(await page.locator('#deletion').count(), 0);
  await shot(page, '08-balance-left-blocked');

  await page.selectOption('#language', 'zh-CN');
  await page.waitForFunction(() => /账户仍有余额/.test(document.querySelector('#blockers')?.textContent));
  const zh = await page.locator('#blockers li[data-kind="account_balance"]').textContent();
  assert.match(zh, /账户仍有余额/);
  assert.match(zh, /提现或用完账号中的余额/);
  await shot(page, '09-balance-left-blocked-zh-CN');

  // A problem answer in the page's language: a code not sent yet.
  await page.goto(`${API}/#/handover`);
  await page.fill('#handover_account-code', '123456');
  await page.click('#handover_account-ok');
  await page.waitForFunction(() => /验证码无效或已过期/.test(document.querySelector('#handover_account-message').textContent));
  await page.selectOption('#language', 'en');
  await page.close();
});

test('a default administrator hands a member\'s account over; the designated person\'s code confirms it', async () => {
  const page = await newPage();
  await signIn(page, 'gina');
  await page.click('#go-handover');
  await page.fill('#account_id', 'erin');
  await page.fill('#new_email', 'frank@example.com');
  await page.fill('#new_phone', '+8613800000009');
  await page.fill('#new_name', 'Frank Example');
  await shot(page, '10-handover-form');
  await verify(page, '#handover-form', 'handover_account', 'gina@example.com');
  assert.match(await announced(page, /confirmation code was sent/), /f\*\*\*k@example\.com/);
  await page.waitForSelector('#handover-confirm-form');
  await page.fill('#handover-code', await codeFor('frank@example.com'));
  await page.click('#handover-confirm-ok');
  await page.waitForSelector('#handover-checklist tbody tr');
  assert.match(await announced(page, /handed over/), /Account erin was handed over\./);
  assert.ok((await page.locator('#handover-checklist tbody tr').count()) >= 5);
  await shot(page, '11-handover-confirmed-checklist');

  await page.goto(`${API}/#/mailbox`);
  await page.waitForSelector('#mailbox tbody tr');
  const subjects = await page.locator('#mailbox tbody tr td:nth-child(2)').allTextContents();
  assert.ok(subjects.includes('An account was handed over to you'), subjects.join(' | '));
  await shot(page, '12-local-mailbox');
  await page.close();
});

// Seed 002's advice, "make sure you have a data backup before deleting the account": a user
// downloads a copy of their data from the deletion page, then deletes; the link dies with the account.
test('seed 002: a user downloads a copy of their data, then deletes the account and the copy goes too', async () => {
  const page = await newPage();
  await signIn(page, 'frida');
  await page.click('#go-delete');
  await page.waitForSelector('#export');
  assert.match(await page.textContent('#backup-advice'), /Advised, not required/);
  await verify(page, '#export', 'export_data', 'frida@example.com');
  await page.waitForSelector('#export-link');
  const href = await page.getAttribute('#export-link', 'href');
  const archive = await fetch(href);
  assert.equal(archive.status, 200);
  const doc = await archive.json();
  assert.equal(doc.account.id, 'frida');
  assert.deepEqual(doc.credentials.map((c) => c.id), ['totp-frida']);
  assert.match(await page.textContent('#export-ready'), /Your copy is ready/);
  await shot(page, '16-data-export-ready');
  const mail = await (await fetch(`${API}/_local/mail`)).json();
  assert.ok(mail.some((m) => m.to.includes('frida@example.com') && m.subject === 'A copy of your data is ready'));

  // Back on the page later, the copy is still offered while its link lives.
  await page.goto(`${API}/#/account`);
  await page.click('#go-delete');
  await page.waitForSelector('#export-link');

  await verify(page, '#deletion', 'delete_account', 'frida@example.com');
  assert.match(await announced(page, /was deleted/), /Account frida was deleted/);
  assert.notEqual((await fetch(href)).status, 200, 'the link no longer downloads');
  await page.close();
});

// With DELETION_GRACE_SECONDS set (run.sh restarts the stack for it): the
// deletion is scheduled, and cancelled from the same tab.
test('with a grace period the deletion is scheduled, and cancelled', { skip: !process.env.GRACE_SECONDS }, async () => {
  const page = await newPage();
  await signIn(page, 'grace');
  await page.click('#go-delete');
  await page.waitForSelector('#deletable');
  await verify(page, '#deletion', 'delete_account', 'grace@example.com');
  await page.waitForSelector('#scheduled');
  assert.match(await page.textContent('#scheduled-note'), /The deletion is scheduled/);
  await shot(page, '13-deletion-scheduled');
  await verify(page, '#scheduled', 'cancel_deletion', 'grace@example.com');
  assert.match(await announced(page, /cancelled/), /The deletion was cancelled/);
  await page.waitForSelector('#deletable');
  await shot(page, '14-deletion-cancelled');
  await page.close();
});

// Signed out once the deletion is scheduled, then in again from another
// browser: the sign-in is told account_deleted and offers the cancellation
// (a fresh account of the reseeded stack: the resend cooldown is per account).
test('with a grace period a user signed in again elsewhere cancels the scheduled deletion', { skip: !process.env.GRACE_SECONDS }, async () => {
  const page = await newPage();
  await signIn(page, 'bob');
  await page.click('#go-delete');
  await page.waitForSelector('#deletable');
  await verify(page, '#deletion', 'delete_account', 'bob@example.com');
  await page.waitForSelector('#scheduled');
  await page.click('#sign-out');
  await page.waitForSelector('button[data-account="bob"]');
  await page.close();

  const elsewhere = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US' });
  try {
    const again = await newPage(elsewhere);
    await again.goto(`${API}/#/sign-in`);
    await again.selectOption('#language', 'en');
    await again.click('button[data-account="bob"]');
    await again.waitForSelector('#cancel-offer');
    assert.equal(await again.evaluate(() => document.activeElement.tagName), 'H1', 'the offer\'s heading has the focus');
    // From the keyboard: the offer is a button, Enter sends the code.
    await again.focus('#cancel-offer');
    await again.keyboard.press('Enter');
    await again.waitForSelector('#cancel_deletion-code');
    assert.equal(await again.evaluate(() => document.activeElement.id), 'cancel_deletion-code', 'the code field has the focus');
    assert.match(await again.textContent('#cancel_deletion-message'), /A code was sent to b\*\*\*b@example\.com/);
    assert.equal(await again.getAttribute('#cancel_deletion-code', 'aria-describedby'), 'cancel_deletion-hint cancel_deletion-message');
    assert.ok(await again.isDisabled('#cancel_deletion-send'), 'the resend waits for its cooldown');
    await shot(again, '15-signed-in-again-cancel-offer');
    await again.fill('#cancel_deletion-code', await codeFor('bob@example.com'));
    await again.keyboard.press('Enter');
    assert.match(await announced(again, /cancelled/), /The deletion was cancelled: the account is active again\./);
    // Usable again: its prerequisites load, and nothing blocks a member.
    await again.waitForSelector('#deletable');
    assert.equal(await again.locator('#cancel-offer').count(), 0);
  } finally {
    await elsewhere.close();
  }
});

// With a user pool (IDENTITY_PROVIDER=cognito scripts/dev up; scripts/test's cognito phase sets USER_POOL=1):
// sign-up and sign-in with a user name and password against the local pool, as on AWS.
test('with a user pool: sign up, delete, the sign-in refused, the same user name and email sign up again', { skip: !process.env.USER_POOL }, async () => {
  const page = await newPage();
  const name = `ivy${Date.now() % 1000000}`;
  const email = `${name}@example.com`;
  const password = 'Ivy-Passw0rd';
  const signUpAs = async () => {
    await page.fill('#new-username', name);
    await page.fill('#new-email', email);
    await page.fill('#new-password', password);
    await page.click('#sign-up');
  };
  await page.goto(`${API}/#/sign-in`);
  await page.waitForSelector('#pool-sign-up');
  await signUpAs();
  await page.waitForSelector('#go-delete');
  await shot(page, 'pool-01-signed-up');

  await page.click('#go-delete');
  await page.waitForSelector('#deletable');
  await verify(page, '#deletion', 'delete_account', email);
  await announced(page, /was deleted/);
  await page.waitForSelector('#pool-sign-in');
  await page.fill('#username', name);
  await page.fill('#password', password);
  await page.click('#sign-in');
  assert.match(await announced(page, /Refused/), /User does not exist/);
  await shot(page, 'pool-02-deleted-sign-in-refused');

  await signUpAs();
  await page.waitForSelector('#go-delete');
  await shot(page, 'pool-03-same-name-and-email-signed-up-again');
  await page.click('#sign-out');
  await page.waitForSelector('#pool-sign-up');
  await signUpAs();
  assert.match(await announced(page, /Refused/), /PreSignUp failed with error This user name is already in use\./);
  await shot(page, 'pool-04-taken-user-name-refused');
  await page.close();
});
