// Drives the web console in a real browser (Debian's chromium through playwright-core): run a query and see
// rows, open the timeline, query a past version, restore it with the confirmation, and take a screenshot of each.
// Usage: node console-browser-test.js CONSOLE_URL DATABASE SCREENSHOT_DIR (playwright-core on NODE_PATH).
// Prints "ok - <step>" per step; any failure throws, so the exit code is non-zero.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const [consoleUrl, database, screenshots] = process.argv.slice(2);
if (!screenshots) throw new Error('usage: node console-browser-test.js CONSOLE_URL DATABASE SCREENSHOT_DIR');

async function step(name, body) {
  await body();
  console.log(`ok - ${name}`);
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'serverlessdb-chromium-'));
  // A fresh profile each run (playwright passes it to chromium as --user-data-dir).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 760 },
  });
  const page = browser.pages()[0] || await browser.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  const sql = page.getByRole('textbox', { name: 'SQL', exact: true });
  const runSql = async (text) => {
    await sql.fill(text);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Done in' }).waitFor();
  };

  try {
    await step('the console opens on the database', async () => {
      await page.goto(`${consoleUrl}?db=${database}`);
      await page.getByRole('heading', { name: 'ServerlessDb console' }).waitFor();
      await page.getByRole('navigation', { name: 'Databases' }).getByRole('button', { name: new RegExp(database) }).waitFor();
    });

    await step('a query shows its rows as a table', async () => {
      await runSql("CREATE TABLE animals (id INTEGER PRIMARY KEY, name TEXT, legs INTEGER);\nINSERT INTO animals(name, legs) VALUES ('cat', 4), ('heron', 2);");
      await runSql("INSERT INTO animals(name, legs) VALUES ('spider', 8);");
      await runSql('SELECT * FROM animals ORDER BY id;');
      const table = page.locator('#results table');
      await assert.doesNotReject(table.waitFor());
      assert.deepEqual(await table.locator('th').allTextContents(), ['id', 'name', 'legs']);
      assert.deepEqual(await table.locator('tbody tr').allTextContents(), ['1cat4', '2heron2', '3spider8']);
      await page.locator('#schema details').first().click();
      await page.locator('#schema pre').filter({ hasText: 'CREATE TABLE animals' }).waitFor();
      await page.screenshot({ path: path.join(screenshots, 'query.png') });
    });

    await step('a statement error shows its message', async () => {
      await sql.fill('SELECT * FROM plants;');
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'no such table: plants' }).waitFor();
    });

    await step('the timeline lists the versions, newest first', async () => {
      await page.getByRole('tab', { name: 'History' }).click();
      const items = page.locator('#timeline li');
      await items.nth(1).waitFor();
      assert.equal(await items.count(), 2);
      await items.first().locator('.badge', { hasText: 'current' }).waitFor();
      await page.screenshot({ path: path.join(screenshots, 'history.png') });
    });

    await step('a past version can be queried', async () => {
      await page.getByRole('button', { name: /^Query the version of/ }).nth(1).click();
      await page.getByText(/Reading the version of .* \(read-only\)/).waitFor();
      await runSql('SELECT name FROM animals ORDER BY id;');
      assert.deepEqual(await page.locator('#results tbody tr').allTextContents(), ['cat', 'heron']);
      await page.screenshot({ path: path.join(screenshots, 'past-version.png') });
    });

    await step('a backup of a past version can be downloaded', async () => {
      await page.getByRole('tab', { name: 'History' }).click();
      const href = await page.getByRole('link', { name: 'Download backup' }).nth(1).getAttribute('href');
      const response = await page.request.get(new URL(href, consoleUrl).toString());
      assert.equal(response.status(), 200);
      assert.equal((await response.body()).subarray(0, 15).toString('latin1'), 'SQLite format 3');
    });

    await step('a restore asks first, says what will happen, and makes the past version current', async () => {
      await page.getByRole('button', { name: /^Restore the version of/ }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Restore this version?' });
      await dialog.waitFor();
      assert.match(await dialog.textContent(), /as a new current version\. Nothing is deleted/);
      await page.screenshot({ path: path.join(screenshots, 'restore.png') });
      await dialog.getByRole('button', { name: 'Restore' }).click();
      await page.getByRole('status').filter({ hasText: /^Restored: version .* is now current/ }).waitFor();
      await page.locator('#timeline li.current').waitFor();
      assert.equal(await page.locator('#timeline li.current, #timeline li.current ~ li').count(), 3);
      await page.getByRole('tab', { name: 'SQL' }).click();
      await runSql('SELECT count(*) AS n FROM animals;');
      assert.deepEqual(await page.locator('#results tbody tr').allTextContents(), ['2']);
    });

    assert.deepEqual(problems, [], 'the page logged errors');
    console.log('all steps passed');
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
