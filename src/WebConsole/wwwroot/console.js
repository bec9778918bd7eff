// The ServerlessDb console: talks only to the API at its own origin (the local server, or serverlessdb console's
// signing proxy). No framework, no build step.
'use strict';

const state = {
  database: new URLSearchParams(location.search).get('db') || 'default',
  version: null, // { id, time } when reading a past version
  versions: [],
};

const $ = (id) => document.getElementById(id);

function query(params) {
  const search = new URLSearchParams(params);
  return search.toString();
}

async function api(method, path, params, body, contentType) {
  const response = await fetch(`/${path}?${query(params)}`, {
    method,
    body,
    headers: body === undefined ? {} : { 'Content-Type': contentType },
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text.trim();
    try { message = JSON.parse(text).message || message; } catch { /* a plain-text error, as the API gives */ }
    throw new Error(`${response.status}: ${message}`);
  }
  return JSON.parse(text);
}

function readParams() {
  const params = { db: state.database };
  if (state.version) params.version = state.version.id;
  return params;
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function formatTime(text) {
  const time = new Date(text);
  return isNaN(time) ? text : time.toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, ' UTC');
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// --- databases and schema -------------------------------------------------------------------------------

async function loadDatabases() {
  const list = $('databases');
  try {
    const all = [];
    let next = null;
    do {
      const page = await api('GET', 'db/databases', next ? { limit: 1000, next } : { limit: 1000 });
      all.push(...page.databases);
      next = page.next;
    } while (next && all.length < 10000);
    if (!all.some((d) => d.name === state.database)) all.push({ name: state.database, size: 0 });
    list.replaceChildren(...all.map((d) => element('li', {}, element('button', {
      type: 'button',
      'aria-current': String(d.name === state.database),
      onclick: () => selectDatabase(d.name),
    }, d.name, element('span', { class: 'size', text: d.size ? formatBytes(d.size) : 'new' })))));
  } catch (error) {
    list.replaceChildren(element('li', { class: 'error', text: `Cannot list the databases: ${error.message}` }));
  }
}

async function loadSchema() {
  const target = $('schema');
  $('schema-database').textContent = state.version ? `${state.database} @ ${formatTime(state.version.time)}` : state.database;
  try {
    const answer = await api('POST', 'db/query', readParams(), JSON.stringify([
      "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_serverlessdb\\_%' ESCAPE '\\' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 ELSE 2 END, name",
    ]), 'application/json');
    const result = answer.results[0];
    if (result.error) throw new Error(result.error);
    const rows = result.values || [];
    target.replaceChildren(...(rows.length === 0
      ? [element('p', { class: 'muted', text: 'No tables yet.' })]
      : rows.map(([type, name, sql]) => element('details', { class: 'schema-table' },
        element('summary', {}, `${name} `, element('span', { class: 'muted', text: type })),
        element('pre', { text: sql }))))); 
  } catch (error) {
    target.replaceChildren(element('p', { class: 'error', text: error.message }));
  }
}

function selectDatabase(name) {
  state.database = name;
  state.version = null;
  history.replaceState(null, '', `?${query({ db: name })}`);
  $('results').replaceChildren();
  refresh();
}

// --- SQL ------------------------------------------------------------------------------------------------

function renderResult(result) {
  if (result.error !== undefined) return element('div', { class: 'error', role: 'alert', text: result.error });
  if (result.columns) {
    const head = element('tr', {}, ...result.columns.map((c) => element('th', { scope: 'col', text: c })));
    const body = (result.values || []).map((row) => element('tr', {}, ...row.map((value, i) => {
      if (value === null) return element('td', { class: 'null', text: 'NULL' });
      const type = (result.types[i] || '').toLowerCase();
      return element('td', {
        class: typeof value === 'number' ? 'number' : '',
        text: type === 'blob' ? `(blob, base64) ${value}` : String(value),
      });
    })));
    const count = element('p', { class: 'muted', text: `${(result.values || []).length} row${(result.values || []).length === 1 ? '' : 's'}` });
    return element('div', {}, element('table', {}, element('thead', {}, head), element('tbody', {}, ...body)), count);
  }
  const affected = result.rows_affected || 0;
  return element('p', { class: 'note', text: `${affected} row${affected === 1 ? '' : 's'} affected${result.last_insert_id ? ` (last insert id ${result.last_insert_id})` : ''}` });
}

async function run() {
  const sql = $('sql').value.trim();
  if (!sql) return;
  const status = $('run-status');
  status.textContent = 'Running…';
  const started = performance.now();
  try {
    const answer = await api('POST', 'sql', readParams(), sql, 'text/plain; charset=utf-8');
    $('results').replaceChildren(...answer.results.map(renderResult));
    status.textContent = `Done in ${Math.round(performance.now() - started)} ms${state.version ? ' (past version)' : ''}.`;
    if (!state.version) {
      loadSchema();
      loadDatabases();
    }
  } catch (error) {
    $('results').replaceChildren(element('div', { class: 'error', role: 'alert', text: error.message }));
    status.textContent = '';
  }
}

function showReading() {
  const banner = $('reading');
  banner.hidden = !state.version;
  if (state.version) {
    $('reading-text').textContent = `Reading the version of ${formatTime(state.version.time)} (read-only).`;
  }
}

// --- history --------------------------------------------------------------------------------------------

async function loadTimeline() {
  const list = $('timeline');
  try {
    const page = await api('GET', 'db/versions', { db: state.database, limit: 100 });
    state.versions = page.versions;
    if (page.versions.length === 0) {
      list.replaceChildren(element('li', { class: 'muted', text: 'No versions yet: this database has never been written.' }));
      return;
    }
    list.replaceChildren(...page.versions.map((v, index) => {
      const backup = `/db/backup?${query({ db: state.database, version: v.id })}`;
      const item = element('li', { class: [v.current ? 'current' : '', state.version && state.version.id === v.id ? 'selected' : ''].join(' ').trim() },
        element('div', { class: 'when' }, formatTime(v.time), v.current ? element('span', { class: 'badge', text: 'current' }) : ''),
        element('div', { class: 'meta', text: `${formatBytes(v.size)} · version ${v.id}` }),
        element('div', { class: 'row' },
          element('button', { type: 'button', onclick: () => queryVersion(v), 'aria-label': `Query the version of ${formatTime(v.time)}` }, 'Query this version'),
          element('a', { href: backup, download: `${state.database}-${v.time.replace(/[:.]/g, '-')}.sqlite` }, 'Download backup'),
          v.current ? '' : element('button', { type: 'button', onclick: () => confirmRestore(v, page.versions[0]), 'aria-label': `Restore the version of ${formatTime(v.time)}` }, 'Restore…')));
      item.dataset.index = String(index);
      return item;
    }));
  } catch (error) {
    list.replaceChildren(element('li', { class: 'error', text: error.message }));
  }
}

function queryVersion(version) {
  state.version = { id: version.id, time: version.time };
  showReading();
  loadSchema();
  selectTab('query');
  $('sql').focus();
}

function confirmRestore(version, current) {
  const dialog = $('confirm-restore');
  $('confirm-text').textContent =
    `Database '${state.database}' will get the content it had at ${formatTime(version.time)} (version ${version.id}), as a new current version. ` +
    `Nothing is deleted: the version current now (${formatTime(current.time)}) stays in the history, and restoring it undoes this.`;
  dialog.returnValue = '';
  dialog.onclose = async () => {
    if (dialog.returnValue !== 'restore') return;
    try {
      const answer = await api('POST', 'db/restore', { db: state.database, version: version.id });
      state.version = null;
      showReading();
      await refresh();
      $('timeline').prepend(element('li', { class: 'note', role: 'status', text: `Restored: version ${answer.restored} is now current as version ${answer.version}.` }));
    } catch (error) {
      $('timeline').prepend(element('li', { class: 'error', role: 'alert', text: `Restore failed: ${error.message}` }));
    }
  };
  dialog.showModal();
}

// --- tabs and wiring ------------------------------------------------------------------------------------

function selectTab(name) {
  for (const tab of ['query', 'history']) {
    const selected = tab === name;
    $(`tab-${tab}`).setAttribute('aria-selected', String(selected));
    $(`tab-${tab}`).tabIndex = selected ? 0 : -1;
    $(`panel-${tab}`).hidden = !selected;
  }
  if (name === 'history') loadTimeline();
}

async function refresh() {
  showReading();
  await Promise.all([loadDatabases(), loadSchema(), $('panel-history').hidden ? null : loadTimeline()]);
}

$('origin').textContent = location.host;
$('run').addEventListener('click', run);
$('sql').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run();
  }
});
$('tab-query').addEventListener('click', () => selectTab('query'));
$('tab-history').addEventListener('click', () => selectTab('history'));
document.querySelector('[role="tablist"]').addEventListener('keydown', (event) => {
  if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
    const next = $('tab-query').getAttribute('aria-selected') === 'true' ? 'history' : 'query';
    selectTab(next);
    $(`tab-${next}`).focus();
  }
});
$('back-to-current').addEventListener('click', () => {
  state.version = null;
  refresh();
});
$('open-database').addEventListener('submit', (event) => {
  event.preventDefault();
  selectDatabase($('database-name').value);
  $('database-name').value = '';
});
refresh();
