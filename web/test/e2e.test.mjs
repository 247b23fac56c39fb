// End to end in headless Chromium against a real wse-server: the demo chat
// between two tabs (presence, recovery of a missed message) and the admin
// dashboard. WSE_SCREENSHOTS=dir also saves the screenshots of docs/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { TIMEOUT, cleanup, launchBrowser, startServer } from './harness.mjs';

const shots = process.env.WSE_SCREENSHOTS ?? '';

/** Opens the demo in a new tab and waits until it is connected. */
async function openChat(ctx, url) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.errors = errors;
  await page.goto(url);
  await page.locator('#status', { hasText: 'connected' }).waitFor();
  return page;
}

/** Sends a chat line from page. */
async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** Waits until page lists n users online. */
async function online(page, n) {
  await page.locator('#online li').nth(n - 1).waitFor();
  await page.waitForFunction((k) => document.querySelectorAll('#online li').length === k, n, { timeout: TIMEOUT });
}

describe('zero-config demo chat', { timeout: 120_000 }, () => {
  let srv, ctx, alice, bob;
  before(async () => {
    srv = await startServer(); // ports and log level only: dev mode by itself
    ctx = await launchBrowser();
  });
  after(async () => {
    await ctx?.close();
    await srv?.stop();
  });

  test('the server says it is in dev mode and how to leave it', () => {
    assert.match(srv.policy, /dev mode .*demo:\*.*--dev=false/);
  });

  test('two tabs see each other online and chat', async () => {
    alice = await openChat(ctx, srv.demoURL + '?name=Alice');
    bob = await openChat(ctx, srv.demoURL + '?name=Bob');
    await online(alice, 2);
    await online(bob, 2);
    await say(alice, 'hello bob');
    await bob.locator('#messages li', { hasText: 'hello bob' }).waitFor();
    await say(bob, 'hi alice');
    await alice.locator('#messages li', { hasText: 'hi alice' }).waitFor();
    await alice.locator('#online li', { hasText: 'Bob' }).waitFor();
    assert.deepEqual(alice.errors, []);
    assert.deepEqual(bob.errors, []);
  });

  test('a tab that closes leaves the online list', async () => {
    const carol = await openChat(ctx, srv.demoURL);
    await online(alice, 3);
    await carol.fill('#name', 'Carol');
    await carol.dispatchEvent('#name', 'change');
    await alice.locator('#online li', { hasText: 'Carol' }).waitFor();
    // The new name survives a reconnect.
    await carol.click('#toggle');
    await carol.locator('#status', { hasText: 'disconnected' }).waitFor();
    await online(alice, 2);
    await carol.click('#toggle');
    await online(alice, 3);
    await alice.locator('#online li', { hasText: 'Carol' }).waitFor();
    await carol.close();
    await online(alice, 2);
    await alice.locator('#messages li.system', { hasText: 'Carol left' }).nth(1).waitFor();
  });

  test('a message missed while offline arrives after reconnecting', async () => {
    await bob.click('#toggle'); // Go offline
    await bob.locator('#status', { hasText: 'disconnected' }).waitFor();
    await online(alice, 1);
    await say(alice, 'while you were away');
    await alice.locator('#messages li', { hasText: 'while you were away' }).waitFor();
    await bob.click('#toggle'); // Reconnect
    await bob.locator('#messages li.recovered', { hasText: 'while you were away' }).waitFor();
    await online(alice, 2);
    await say(alice, 'welcome back');
    await bob.locator('#messages li:not(.recovered)', { hasText: 'welcome back' }).waitFor();
    assert.equal(await bob.locator('#messages li', { hasText: 'while you were away' }).count(), 1, 'delivered exactly once');
    if (shots !== '') await bob.screenshot({ path: join(shots, 'demo-chat.png') });
  });

  test('another room is separate', async () => {
    const zed = await openChat(ctx, srv.demoURL + '?room=side&name=Zed');
    await zed.locator('#room', { hasText: 'demo:side' }).waitFor();
    await online(zed, 1);
    await say(zed, 'side note');
    await zed.locator('#messages li', { hasText: 'side note' }).waitFor();
    await say(alice, 'lobby only');
    await bob.locator('#messages li', { hasText: 'lobby only' }).waitFor();
    assert.equal(await zed.locator('#messages li', { hasText: 'lobby only' }).count(), 0);
    assert.equal(await alice.locator('#messages li', { hasText: 'side note' }).count(), 0);
    await zed.close();
  });

  test('the dashboard shows the connections and a message it published', async () => {
    const admin = await ctx.newPage();
    admin.setDefaultTimeout(TIMEOUT);
    await admin.setViewportSize({ width: 1280, height: 1400 });
    await admin.goto(srv.apiURL + '/admin');
    // Alice and Bob (closed tabs may take a moment to be gone).
    let ids;
    for (const deadline = Date.now() + TIMEOUT; Date.now() < deadline; await admin.waitForTimeout(100)) {
      ids = await (await fetch(srv.apiURL + '/api/connections')).json();
      if (ids.count === 2) break;
    }
    assert.equal(ids.count, 2);
    for (const id of ids.connections) await admin.locator(`#conn-rows code[title="${id}"]`).waitFor();
    await admin.locator('#topic-rows tr', { hasText: 'demo:lobby' }).locator('td', { hasText: /^2$/ }).waitFor();
    await admin.locator('#presence-list li', { hasText: 'Alice' }).waitFor();
    await admin.click('#publish-form button[type=submit]');
    await admin.locator('#pub-result', { hasText: 'delivered to 2 local subscribers' }).waitFor();
    await alice.locator('#messages li', { hasText: 'Hello from the dashboard' }).waitFor();
    await bob.locator('#messages li', { hasText: 'Hello from the dashboard' }).waitFor();
    await admin.waitForFunction(() => Number(document.getElementById('m-out-sub')?.textContent?.split(' ')[0]) > 0, null, { timeout: TIMEOUT });
    // Disconnect (4300) from the dashboard: the tab reconnects by itself.
    const bobRow = admin.locator('#conn-rows tr', { hasText: 'demo:lobby' }).last();
    await bobRow.getByRole('button', { name: 'Disconnect' }).click();
    await admin.locator('#conn-result', { hasText: 'with 4300' }).waitFor();
    await admin.waitForFunction(() => document.querySelectorAll('#conn-rows code').length === 2, null, { timeout: TIMEOUT });
    if (shots !== '') {
      // Some traffic for the charts: bursts of publications for 20 s (the
      // chat ignores their type).
      for (let i = 0; i < 100; i++) {
        const n = Math.round(20 + 15 * Math.sin(i / 8));
        await Promise.all(Array.from({ length: n }, () => fetch(srv.apiURL + '/api/publish', {
          method: 'POST', body: JSON.stringify({ topic: 'demo:lobby', data: { t: 'tick', p: { i } } }),
        })));
        await admin.waitForTimeout(200);
      }
      await admin.screenshot({ path: join(shots, 'admin-dashboard.png'), fullPage: true });
    }
    await admin.close();
  });
});

describe('a configured server', { timeout: 60_000 }, () => {
  let srv, ctx;
  before(async () => {
    srv = await startServer(['--api-key', 'test-key', '--max-connections', '50']);
    ctx = await launchBrowser();
  });
  after(async () => {
    await ctx?.close();
    await srv?.stop();
  });

  test('keeps the production policy: the demo room is refused', async () => {
    assert.match(srv.policy, /subscription policy acl: no --client-topics/);
    const page = await openChat(ctx, srv.demoURL);
    await page.locator('#messages li.error', { hasText: 'refused demo:lobby' }).waitFor();
    // Nothing relays the chat outside dev mode, and the page says so.
    await say(page, 'anyone?');
    await page.locator('#messages li.error', { hasText: 'dev mode' }).waitFor();
  });

  test('the dashboard asks for the API key and then shows the server', async () => {
    const admin = await ctx.newPage();
    admin.setDefaultTimeout(TIMEOUT);
    await admin.goto(srv.apiURL + '/admin');
    await admin.locator('#key-form').waitFor();
    assert.equal(await admin.locator('#m-connections').textContent(), '–');
    await admin.fill('#api-key', 'test-key');
    await admin.click('#key-form button');
    await admin.locator('#key-form').waitFor({ state: 'hidden' });
    await admin.locator('#m-connections', { hasText: '1' }).waitFor();
    await admin.locator('#m-connections-sub', { hasText: 'of 50 max' }).waitFor();
    // No --jwt-secret: minting is refused with the server's reason.
    await admin.click('#token-form button[type=submit]');
    await admin.locator('#tok-result.err', { hasText: 'AUTH_DISABLED' }).waitFor();
  });
});

describe('a server with JWT auth', { timeout: 60_000 }, () => {
  const secret = 'e2e-secret-e2e-secret-e2e-secret-0123';
  let srv, ctx;
  before(async () => {
    srv = await startServer(['--jwt-secret', secret, '--client-topics', 'demo:*', '--presence']);
    ctx = await launchBrowser();
  });
  after(async () => {
    await ctx?.close();
    await srv?.stop();
  });

  test('the dashboard mints a token the server accepts', async () => {
    const admin = await ctx.newPage();
    admin.setDefaultTimeout(TIMEOUT);
    await admin.goto(srv.apiURL + '/admin');
    await admin.fill('#tok-sub', 'carol');
    await admin.click('#token-form button[type=submit]');
    const token = (await admin.locator('#tok-result.ok').textContent()) ?? '';
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The chat, given the token as its cookie, connects as carol.
    await ctx.addCookies([{ name: 'access_token', value: token, url: srv.demoURL }]);
    const chat = await openChat(ctx, srv.demoURL + '?name=Carol');
    await chat.locator('#online li[data-user="carol"]', { hasText: '(you)' }).waitFor();
    await admin.locator('#conn-rows td', { hasText: 'carol' }).waitFor();
  });
});

after(cleanup);
