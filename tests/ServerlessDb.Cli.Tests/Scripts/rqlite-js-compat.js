// (A copy of the integration tests' LocalServer/rqlite-js/compat.js, run here through the signing proxy.)
// Drives a ServerlessDb local server with the real rqlite-js client and checks that every answer
// is what rqlite gives. Usage: node compat.js http://127.0.0.1:PORT (rqlite-js on NODE_PATH).
// Prints "ok - <step>" per step; any difference throws, so the exit code is non-zero.
'use strict';
const assert = require('node:assert/strict');
const { DataApiClient } = require('rqlite-js');

const url = process.argv[2];
if (!url) {
  throw new Error('usage: node compat.js <server url>');
}

const client = new DataApiClient(url);

function rows(results) {
  assert.equal(results.hasError(), false, `unexpected error: ${results.hasError() && results.getFirstError().message}`);
  return results.toArray();
}

async function step(name, body) {
  await body();
  console.log(`ok - ${name}`);
}

async function main() {
  await step('create table', async () => {
    const results = await client.execute('CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, age INTEGER)');
    assert.equal(results.hasError(), false);
    assert.equal(results.get(0).getRowsAffected(), 0);
    assert.equal(results.get(0).getLastInsertId(), undefined);
  });

  await step('plain insert', async () => {
    const results = await client.execute("INSERT INTO foo(name, age) VALUES('fiona', 20)");
    assert.equal(results.hasError(), false);
    assert.equal(results.get(0).getLastInsertId(), 1);
    assert.equal(results.get(0).getRowsAffected(), 1);
  });

  await step('parameterized inserts', async () => {
    const results = await client.execute([
      ['INSERT INTO foo(name, age) VALUES(?, ?)', 'declan', 30],
      ['INSERT INTO foo(name, age) VALUES(:name, :age)', { name: 'aoife', age: 40 }],
    ]);
    assert.equal(results.hasError(), false);
    assert.deepEqual(results.getResults().map((r) => [r.getLastInsertId(), r.getRowsAffected()]), [[2, 1], [3, 1]]);
  });

  await step('select', async () => {
    const results = await client.query('SELECT id, name, age FROM foo ORDER BY id');
    assert.deepEqual(rows(results), [
      { id: 1, name: 'fiona', age: 20 },
      { id: 2, name: 'declan', age: 30 },
      { id: 3, name: 'aoife', age: 40 },
    ]);
  });

  await step('parameterized select', async () => {
    const results = await client.query([['SELECT name FROM foo WHERE age > ? ORDER BY id', 25]]);
    assert.deepEqual(rows(results), [{ name: 'declan' }, { name: 'aoife' }]);
  });

  await step('update', async () => {
    const results = await client.execute([["UPDATE foo SET age = age + 1 WHERE name = ?", 'fiona']]);
    assert.equal(results.hasError(), false);
    assert.equal(results.get(0).getRowsAffected(), 1);
    assert.deepEqual(rows(await client.query("SELECT age FROM foo WHERE name = 'fiona'")), [{ age: 21 }]);
  });

  await step('delete', async () => {
    const results = await client.execute("DELETE FROM foo WHERE name = 'aoife'");
    assert.equal(results.hasError(), false);
    assert.equal(results.get(0).getRowsAffected(), 1);
    assert.deepEqual(rows(await client.query('SELECT COUNT(*) AS n FROM foo')), [{ n: 2 }]);
  });

  await step('failing transaction rolls back', async () => {
    const results = await client.execute([
      ['INSERT INTO foo(id, name) VALUES(?, ?)', 10, 'new'],
      ['INSERT INTO foo(id, name) VALUES(?, ?)', 1, 'duplicate'],
    ], { transaction: true });
    assert.equal(results.hasError(), true);
    assert.equal(results.getFirstError().message, 'UNIQUE constraint failed: foo.id');
    assert.deepEqual(rows(await client.query('SELECT COUNT(*) AS n FROM foo WHERE id = 10')), [{ n: 0 }]);
  });

  await step('statement error', async () => {
    const results = await client.execute('SELEC 1');
    assert.equal(results.hasError(), true);
    assert.match(results.getFirstError().message, /syntax error/);
  });

  await step('write sent to /db/query is refused', async () => {
    const results = await client.query(["INSERT INTO foo(name) VALUES('sneaky')"]);
    assert.equal(results.hasError(), true);
    assert.equal(results.getFirstError().message, 'attempt to change database via query operation');
    assert.deepEqual(rows(await client.query("SELECT COUNT(*) AS n FROM foo WHERE name = 'sneaky'")), [{ n: 0 }]);
  });

  console.log('all steps passed');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
