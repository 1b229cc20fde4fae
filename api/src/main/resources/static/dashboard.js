// The fetchq dashboard: plain ES module, no build step. Every value from the API or a fetched page
// is put in the page as text (textContent), never as HTML.
//
// The API key, when the API asks for one, is kept in this tab's sessionStorage (gone when the tab
// closes) and sent as Authorization: Bearer on every call; files (bodies, exports) are fetched
// with it and saved as downloads, never opened in this origin.

const view = document.getElementById('view');
const rates = [];
const KEY = 'fetchq.api-key';
let timer = null;

/** A refusal of the API, with its status. */
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function authorized(options = {}) {
  const headers = new Headers(options.headers || {});
  const key = sessionStorage.getItem(KEY);
  if (key) headers.set('Authorization', 'Bearer ' + key);
  return {...options, headers};
}

async function api(path, options) {
  const response = await fetch(path, authorized(options));
  const text = await response.text();
  const type = response.headers.get('Content-Type') || '';
  const body = text && type.includes('json') ? JSON.parse(text) : null;
  if (!response.ok) {
    const details = (body && body.errors || []).map(e => (e.line ? `line ${e.line}: ` : '') + e.detail);
    throw new ApiError(response.status, [body && body.detail || `HTTP ${response.status}`, ...details].join('\n'));
  }
  return body;
}

/** Fetches a file with the key and saves it as a download (a fetched page never runs here). */
async function download(path, filename) {
  const response = await fetch(path, authorized());
  if (!response.ok) throw new ApiError(response.status, `HTTP ${response.status}`);
  const url = URL.createObjectURL(new Blob([await response.arrayBuffer()], {type: 'application/octet-stream'}));
  const link = el('a', {href: url, download: filename});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function downloadLink(text, path, filename, id) {
  const link = el('a', {href: '#', id: id || '', onclick: e => {
    e.preventDefault();
    download(path, filename).catch(err => alert(err.message));
  }}, text);
  return link;
}

// ---- the API key -------------------------------------------------------------------------------

function askForKey(message) {
  clearInterval(timer);
  view.replaceChildren(document.getElementById('login').content.cloneNode(true));
  document.getElementById('key-message').textContent = message;
  document.getElementById('key-form').addEventListener('submit', event => {
    event.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById('key-input').value.trim());
    route();
  });
  document.getElementById('key-input').focus();
}

document.getElementById('forget-key').addEventListener('click', event => {
  event.preventDefault();
  sessionStorage.removeItem(KEY);
  route();
});

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v; else if (k.startsWith('data-')) node.setAttribute(k, v); else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return node;
}

const fmt = n => n == null ? '–' : Number(n).toLocaleString('en');
const time = t => t ? new Date(t).toLocaleString() : '';

function progressBar(b) {
  const bar = el('div', {class: 'bar', title: `${b.completed} completed, ${b.failed} failed, ${b.cancelled} cancelled, ${b.running} running, ${b.queued} queued`});
  for (const part of ['completed', 'failed', 'cancelled', 'running']) {
    if (b[part] > 0) bar.append(el('span', {class: part, style: `width:${100 * b[part] / b.total}%`}));
  }
  return bar;
}

// ---- overview -------------------------------------------------------------------------------

async function overview() {
  view.replaceChildren(document.getElementById('overview').content.cloneNode(true));
  document.getElementById('submit').addEventListener('submit', submit);
  if (await refresh()) timer = setInterval(refresh, 2000);
}

/** Redraws the overview; false when the API asked for a key instead. */
async function refresh() {
  try {
    const [stats, batches, hosts] = await Promise.all([
      api('/api/v1/stats'), api('/api/v1/batches?limit=20'), api('/api/v1/hosts?limit=20')]);
    for (const s of ['queued', 'running', 'completed', 'failed', 'cancelled']) {
      document.getElementById('stat-' + s).textContent = fmt(stats.jobs[s]);
    }
    document.getElementById('stat-lag').textContent = (stats.oldest_due_age_ms / 1000).toFixed(1) + ' s';
    document.getElementById('stat-workers').textContent = fmt(stats.live_workers);
    document.getElementById('stat-rate').textContent = stats.completions_per_second.toFixed(1);
    rates.push(stats.completions_per_second);
    if (rates.length > 150) rates.shift();
    chart();
    document.getElementById('failures').replaceChildren(...Object.entries(stats.failures_last_hour)
      .map(([kind, n]) => el('tr', {}, el('td', {class: 'error'}, kind), el('td', {}, fmt(n)))));
    document.getElementById('batches').replaceChildren(...batches.map(b => el('tr', {'data-batch': b.id, 'data-done': b.done},
      el('td', {}, el('a', {href: `#/batches/${b.id}`}, `#${b.id}`)), el('td', {}, time(b.created_at)),
      el('td', {}, progressBar(b)), el('td', {class: 'count'}, `${fmt(b.completed + b.failed + b.cancelled)} / ${fmt(b.total)}`),
      el('td', {class: b.failed ? 'error' : ''}, fmt(b.failed)), el('td', {}, b.done ? 'done' : ''))));
    document.getElementById('hosts').replaceChildren(...hosts.map(h => el('tr', {'data-host': h.host, 'data-state': hostState(h)},
      el('td', {}, h.host), el('td', {}, fmt(h.queued)), el('td', {}, fmt(h.running)),
      el('td', {class: 'in-flight'}, `${fmt(h.in_flight)} / ${h.max_in_flight == null ? 'default' : fmt(h.max_in_flight)}`),
      el('td', {class: h.stuck ? 'error' : ''}, h.oldest_due_age_ms ? (h.oldest_due_age_ms / 1000).toFixed(1) + ' s' : '–'),
      el('td', {}, fmt(h.finished)),
      el('td', {class: h.failed ? 'error' : ''}, h.finished ? (100 * h.failed / h.finished).toFixed(1) + ' %' : '–'),
      el('td', {class: h.breaker !== 'closed' ? 'error breaker' : 'breaker'},
        h.breaker === 'open' && h.open_until ? `open until ${time(h.open_until)}` : h.breaker.replace('_', '-')),
      el('td', {class: 'paused-until'}, time(h.paused_until)),
      el('td', {class: h.stuck || h.breaker_open ? 'error' : ''}, hostState(h)),
      el('td', {}, el('button', {class: 'pause-host', onclick: () => pauseHost(h)}, h.paused_until ? 'Resume' : 'Pause 1 h')))));
  } catch (e) {
    if (e.status === 401) {
      askForKey(e.message);
      return false;
    }
    if (e.status === 403) {
      clearInterval(timer);
      view.replaceChildren(el('section', {class: 'error', id: 'page-error'},
        `${e.message}. The overview needs a key with the read scope: choose Forget key to use another.`));
      return false;
    }
    console.warn('refresh failed', e);
  }
  return true;
}

/** Pauses a host for the whole fleet for an hour, or resumes it (needs an admin key). */
async function pauseHost(h) {
  const until = h.paused_until ? null : new Date(Date.now() + 3600 * 1000).toISOString();
  try {
    await api(`/api/v1/hosts/${encodeURIComponent(h.host)}`, {method: 'PUT',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({paused_until: until})});
    refresh();
  } catch (e) {
    alert(e.status === 403 ? 'Pausing a host needs an admin key.' : e.message);
  }
}

/** What holds a host back, if anything: stuck (nothing does, yet its due jobs wait), breaker open, paused, or ok. */
function hostState(h) {
  return h.stuck ? 'stuck' : h.breaker_open ? 'breaker open' : h.paused ? 'paused' : 'ok';
}

function chart() {
  const svg = document.getElementById('chart');
  if (!svg) return;
  const max = Math.max(1, ...rates);
  const points = rates.map((r, i) => `${(i * 600 / 149).toFixed(1)},${(115 - 110 * r / max).toFixed(1)}`).join(' ');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points);
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#3b7dd8');
  line.setAttribute('stroke-width', '2');
  const label = document.createElementNS('http://www.w3.org/2000/svg', 'text');
  label.setAttribute('x', '4');
  label.setAttribute('y', '12');
  label.setAttribute('font-size', '10');
  label.textContent = `max ${max.toFixed(1)} jobs/s`;
  svg.replaceChildren(line, label);
}

async function submit(event) {
  event.preventDefault();
  const out = document.getElementById('submit-result');
  const params = new URLSearchParams({max_attempts: document.getElementById('submit-attempts').value});
  if (document.getElementById('submit-title').checked) params.set('extract', 'title');
  try {
    const batch = await api('/api/v1/batches?' + params, {method: 'POST', headers: {'Content-Type': 'text/plain'},
      body: document.getElementById('submit-urls').value});
    out.className = '';
    out.replaceChildren('Created ', el('a', {href: `#/batches/${batch.id}`, id: 'submit-batch'}, `batch #${batch.id}`),
      ` with ${fmt(batch.total)} jobs.`);
    document.getElementById('submit-urls').value = '';
    refresh();
  } catch (e) {
    out.className = 'error';
    out.textContent = e.message;
  }
}

/** Renders a page now and every second until render says it is done (a batch's, a crawl's). */
async function follow(render) {
  if (await render()) return;
  timer = setInterval(async () => {
    try {
      if (await render()) clearInterval(timer);
    } catch (e) {
      clearInterval(timer);
      if (e.status === 401) askForKey(e.message);
    }
  }, 1000);
}

// ---- a batch ----------------------------------------------------------------------------------

async function batchPage(id) {
  const render = async () => {
    const [b, page] = await Promise.all([api(`/api/v1/batches/${id}`), api(`/api/v1/jobs?batch_id=${id}&limit=200`)]);
    view.replaceChildren(el('section', {},
      el('h2', {}, `Batch #${b.id} `, el('small', {}, `created ${time(b.created_at)}${b.done ? ', done' : ''}`),
        b.schedule_id ? el('small', {id: 'batch-schedule'}, ' · run of ', el('a', {href: '#/schedules'}, `schedule #${b.schedule_id}`),
          ` for ${time(b.nominal_time)}`) : ''),
      progressBar(b),
      el('p', {id: 'batch-counts', 'data-done': b.done},
        `${fmt(b.completed)} completed, ${fmt(b.failed)} failed, ${fmt(b.cancelled)} cancelled, ${fmt(b.running)} running, ${fmt(b.queued)} queued`),
      el('p', {}, 'Export: ', downloadLink('NDJSON', `/api/v1/batches/${id}/results`, `batch-${id}-results.ndjson`), ' · ',
        downloadLink('CSV', `/api/v1/batches/${id}/results?format=csv`, `batch-${id}-results.csv`)),
      el('table', {}, el('thead', {}, el('tr', {}, ...['job', 'url', 'state', 'status', 'error', 'title', 'ms'].map(h => el('th', {}, h)))),
        el('tbody', {id: 'batch-jobs'}, ...page.jobs.map(j => el('tr', {'data-job': j.id, 'data-state': j.state},
          el('td', {}, el('a', {href: `#/jobs/${j.id}`}, `#${j.id}`)), el('td', {}, j.url),
          el('td', {class: 'state-' + j.state}, j.state), el('td', {}, j.result && j.result.status_code),
          el('td', {class: 'error'}, j.result && j.result.error_kind), el('td', {}, j.result && j.result.title),
          el('td', {}, j.result && j.result.total_ms)))))));
    return b.done;
  };
  await follow(render);
}

// ---- a job ------------------------------------------------------------------------------------

async function jobPage(id) {
  const [j, a] = await Promise.all([api(`/api/v1/jobs/${id}`), api(`/api/v1/jobs/${id}/attempts`)]);
  const r = j.result || {};
  const longest = Math.max(1, ...a.attempts.map(x => x.total_ms || 0));
  const phases = x => {
    const known = ['dns', 'connect', 'tls', 'ttfb'].map(p => [p, x[p + '_ms'] || 0]);
    const before = known.slice(0, 3).reduce((s, [, v]) => s + v, 0);
    const ttfb = Math.max(0, (x.ttfb_ms || 0) - before);
    const parts = [...known.slice(0, 3), ['ttfb', ttfb]];
    parts.push(['rest', Math.max(0, (x.total_ms || 0) - parts.reduce((s, [, v]) => s + v, 0))]);
    return parts;
  };
  view.replaceChildren(
    el('section', {},
      el('h2', {}, `Job #${j.id} `, j.batch_id ? el('a', {href: `#/batches/${j.batch_id}`}, `batch #${j.batch_id}`) : ''),
      el('dl', {},
        el('dt', {}, 'url'), el('dd', {}, j.url),
        el('dt', {}, 'method'), el('dd', {}, j.method),
        el('dt', {}, 'headers'), el('dd', {id: 'job-headers'}, ...Object.entries(j.headers || {})
          .map(([name, value]) => el('div', {class: value === '[redacted]' ? 'redacted' : ''}, `${name}: ${value}`))),
        el('dt', {}, 'state'), el('dd', {id: 'job-state', class: 'state-' + j.state}, j.state),
        el('dt', {}, 'attempts'), el('dd', {}, `${j.attempts} of ${j.max_attempts}`),
        el('dt', {}, 'status'), el('dd', {id: 'job-status'}, r.status_code,
          r.not_modified ? ' not modified (the earlier body is kept)' : ''),
        el('dt', {}, 'changed'), el('dd', {id: 'job-changed'},
          r.changed == null ? '–' : r.changed ? 'yes, since the previous 200 of this URL' : 'no'),
        el('dt', {}, 'error'), el('dd', {id: 'job-error-kind', class: 'error'}, r.error_kind),
        el('dt', {}, 'message'), el('dd', {id: 'job-error-message'}, r.error_message),
        el('dt', {}, 'title'), el('dd', {}, r.title),
        el('dt', {}, 'final url'), el('dd', {}, r.final_url),
        el('dt', {}, 'body'), el('dd', {}, r.body_bytes != null
          ? downloadLink(`${fmt(r.body_bytes)} bytes, ${r.content_type || ''}`, `/api/v1/jobs/${j.id}/body`, `job-${j.id}-body`, 'job-body') : '–'),
        el('dt', {}, 'created'), el('dd', {}, time(j.created_at)),
        el('dt', {}, 'finished'), el('dd', {}, time(j.finished_at)))),
    el('section', {},
      el('h2', {}, 'Attempts ', el('small', {class: 'legend'}, ...['dns', 'connect', 'tls', 'ttfb', 'rest'].flatMap(p => [el('span', {class: p}), p]))),
      el('table', {}, el('thead', {}, el('tr', {}, ...['#', 'worker', 'started', 'status', 'error', 'timeline', 'ms'].map(h => el('th', {}, h)))),
        el('tbody', {id: 'attempts'}, ...a.attempts.map(x => el('tr', {class: 'attempt', 'data-attempt': x.attempt},
          el('td', {}, x.attempt), el('td', {}, x.worker_id), el('td', {}, time(x.started_at)), el('td', {}, x.status_code),
          el('td', {class: 'error', title: x.error_message || ''}, x.error_kind),
          el('td', {}, el('div', {class: 'timeline', style: `width:${Math.max(2, 300 * (x.total_ms || 0) / longest)}px`},
            ...phases(x).filter(([, v]) => v > 0).map(([p, v]) => el('span', {class: p, title: `${p} ${v} ms`, style: `width:${100 * v / Math.max(1, x.total_ms)}%`})))),
          el('td', {}, x.total_ms)))))));
}

// ---- schedules ----------------------------------------------------------------------------------

async function schedulesPage() {
  const render = async () => {
    const schedules = await api('/api/v1/schedules?limit=1000');
    const rows = schedules.map(s => el('tr', {'data-schedule': s.id, 'data-paused': s.paused},
      el('td', {}, `#${s.id}`), el('td', {}, s.name),
      el('td', {class: 'when'}, s.cron ? s.cron : `every ${s.every}`), el('td', {}, s.time_zone), el('td', {}, s.catch_up),
      el('td', {class: 'state'}, s.paused ? 'paused' : 'active'), el('td', {class: 'next-run'}, time(s.next_run_at)),
      el('td', {}, time(s.last_run_at)),
      el('td', {}, s.last_batch_id ? el('a', {href: `#/batches/${s.last_batch_id}`, class: 'last-batch'}, `#${s.last_batch_id}`) : '–'),
      el('td', {}, fmt(s.job_count)),
      el('td', {},
        el('button', {class: 'toggle-schedule', onclick: () => scheduleAction(s.id, s.paused ? 'resume' : 'pause')}, s.paused ? 'Resume' : 'Pause'),
        ' ', el('button', {class: 'run-schedule', onclick: () => scheduleAction(s.id, 'run')}, 'Run now'))));
    document.getElementById('schedules').replaceChildren(...rows);
  };
  view.replaceChildren(
    el('section', {},
      el('h2', {}, 'Schedules ', el('small', {}, 'each run is a batch; every worker and API process runs them, once each')),
      el('table', {}, el('thead', {}, el('tr', {}, ...['schedule', 'name', 'when', 'time zone', 'catch up', 'state', 'next run',
        'last run', 'last batch', 'URLs', ''].map(h => el('th', {}, h)))), el('tbody', {id: 'schedules'}))),
    el('section', {},
      el('h2', {}, 'New schedule'),
      el('form', {id: 'schedule-form', onsubmit: createSchedule},
        el('label', {}, 'name ', el('input', {id: 'schedule-name', required: true, size: 30})),
        el('label', {}, 'cron or every ', el('input', {id: 'schedule-when', required: true, size: 20, placeholder: '*/15 * * * * or PT15M'})),
        el('label', {}, 'time zone ', el('input', {id: 'schedule-zone', value: 'UTC', size: 16})),
        el('label', {}, 'catch up ', el('select', {id: 'schedule-catch-up'}, ...['skip', 'one', 'all'].map(c => el('option', {value: c}, c)))),
        el('textarea', {id: 'schedule-urls', rows: 4, placeholder: 'one URL per line', required: true}),
        el('button', {id: 'schedule-button', type: 'submit'}, 'Create schedule'),
        el('p', {id: 'schedule-result', role: 'status'}))));
  await render();
  timer = setInterval(() => render().catch(e => console.warn('refresh failed', e)), 2000);
}

async function scheduleAction(id, action) {
  try {
    const answer = await api(`/api/v1/schedules/${id}/${action}`, {method: 'POST'});
    if (action === 'run') location.hash = `#/batches/${answer.id}`;
    else schedulesPage();
  } catch (e) {
    alert(e.message);
  }
}

async function createSchedule(event) {
  event.preventDefault();
  const out = document.getElementById('schedule-result');
  const when = document.getElementById('schedule-when').value.trim();
  const request = {name: document.getElementById('schedule-name').value.trim(),
    time_zone: document.getElementById('schedule-zone').value.trim() || 'UTC',
    catch_up: document.getElementById('schedule-catch-up').value,
    urls: document.getElementById('schedule-urls').value.split('\n').map(u => u.trim()).filter(u => u && !u.startsWith('#'))};
  if (/^P/i.test(when)) request.every = when; else request.cron = when;
  try {
    const s = await api('/api/v1/schedules', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(request)});
    out.className = '';
    out.textContent = `Created schedule #${s.id}, next run ${time(s.next_run_at)}.`;
    clearInterval(timer);
    await schedulesPage();
    document.getElementById('schedule-result').textContent = `Created schedule #${s.id}, next run ${time(s.next_run_at)}.`;
  } catch (e) {
    out.className = 'error';
    out.textContent = e.message;
  }
}

// ---- crawls --------------------------------------------------------------------------------------

const CRAWL_COUNTS = ['discovered', 'enqueued', 'fetched', 'failed', 'queued', 'running', 'skipped_duplicate',
  'skipped_scope', 'skipped_robots', 'skipped_nofollow', 'skipped_limit'];

async function crawlsPage() {
  const render = async () => {
    const crawls = await api('/api/v1/crawls?limit=100');
    document.getElementById('crawls').replaceChildren(...crawls.map(c => el('tr', {'data-crawl': c.id, 'data-state': c.state},
      el('td', {}, el('a', {href: `#/crawls/${c.id}`}, `#${c.id}`)), el('td', {class: 'state-' + c.state}, c.state),
      el('td', {}, c.scope), el('td', {}, fmt(c.fetched)), el('td', {}, fmt(c.failed)), el('td', {}, fmt(c.enqueued)),
      el('td', {}, fmt(c.max_pages)), el('td', {}, fmt(c.discovered)), el('td', {}, time(c.created_at)))));
  };
  view.replaceChildren(
    el('section', {},
      el('h2', {}, 'Crawls ', el('small', {}, 'each page once, within the scope, obeying robots.txt')),
      el('table', {}, el('thead', {}, el('tr', {}, ...['crawl', 'state', 'scope', 'fetched', 'failed', 'enqueued', 'max pages',
        'links', 'created'].map(h => el('th', {}, h)))), el('tbody', {id: 'crawls'}))),
    el('section', {},
      el('h2', {}, 'New crawl'),
      el('form', {id: 'crawl-form', onsubmit: startCrawl},
        el('textarea', {id: 'crawl-seeds', rows: 3, placeholder: 'seed URLs, one per line', required: true}),
        el('label', {}, 'scope ', el('select', {id: 'crawl-scope'},
          ...['same-host', 'same-origin', 'same-site'].map(c => el('option', {value: c}, c)))),
        el('label', {}, 'max pages ', el('input', {id: 'crawl-max-pages', type: 'number', min: 1, value: 1000})),
        el('label', {}, 'max depth ', el('input', {id: 'crawl-max-depth', type: 'number', min: 0, value: 3})),
        el('button', {id: 'crawl-button', type: 'submit'}, 'Start crawl'),
        el('p', {id: 'crawl-result', role: 'status'}))));
  await render();
  timer = setInterval(() => render().catch(e => console.warn('refresh failed', e)), 2000);
}

async function startCrawl(event) {
  event.preventDefault();
  const out = document.getElementById('crawl-result');
  const request = {seeds: document.getElementById('crawl-seeds').value.split('\n').map(u => u.trim()).filter(u => u),
    scope: document.getElementById('crawl-scope').value,
    max_pages: Number(document.getElementById('crawl-max-pages').value),
    max_depth: Number(document.getElementById('crawl-max-depth').value)};
  try {
    const c = await api('/api/v1/crawls', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(request)});
    location.hash = `#/crawls/${c.id}`;
  } catch (e) {
    out.className = 'error';
    out.textContent = e.message;
  }
}

async function crawlPage(id) {
  const render = async () => {
    const c = await api(`/api/v1/crawls/${id}`);
    const page = await api(`/api/v1/jobs?batch_id=${c.batch_id}&limit=200`);
    view.replaceChildren(el('section', {},
      el('h2', {}, `Crawl #${c.id} `, el('small', {}, `${c.scope}, robots.txt ${c.robots === 'obey' ? 'obeyed' : 'ignored'}, `
        + `created ${time(c.created_at)}`), ' ', el('a', {href: `#/batches/${c.batch_id}`}, `batch #${c.batch_id}`)),
      progressBar({...c, total: c.enqueued, completed: c.fetched, cancelled: 0}),
      el('p', {id: 'crawl-state', 'data-done': c.done, class: 'state-' + c.state}, c.state),
      el('table', {id: 'crawl-counts'}, el('tbody', {}, ...CRAWL_COUNTS.map(k => el('tr', {'data-count': k},
        el('th', {}, k.replace('_', ' ')), el('td', {}, fmt(c[k])))))),
      c.done ? '' : el('button', {id: 'crawl-cancel', onclick: async () => {
        await api(`/api/v1/crawls/${id}/cancel`, {method: 'POST'});
        render();
      }}, 'Cancel'),
      el('table', {}, el('thead', {}, el('tr', {}, ...['page', 'depth', 'url', 'state', 'status', 'title'].map(h => el('th', {}, h)))),
        el('tbody', {id: 'crawl-pages'}, ...page.jobs.map(j => el('tr', {'data-job': j.id, 'data-state': j.state},
          el('td', {}, el('a', {href: `#/jobs/${j.id}`}, `#${j.id}`)), el('td', {}, j.depth), el('td', {}, j.url),
          el('td', {class: 'state-' + j.state}, j.state), el('td', {}, j.result && (j.result.status_code || j.result.error_kind)),
          el('td', {}, j.result && j.result.title)))))));
    return c.done;
  };
  await follow(render);
}

// ---- routing ------------------------------------------------------------------------------------

async function route() {
  clearInterval(timer);
  const [, kind, id] = location.hash.match(/^#\/(batches|jobs|crawls)\/(\d+)/) || [];
  try {
    if (location.hash === '#/schedules') await schedulesPage();
    else if (location.hash === '#/crawls') await crawlsPage();
    else if (kind === 'crawls') await crawlPage(id);
    else if (kind === 'batches') await batchPage(id);
    else if (kind === 'jobs') await jobPage(id);
    else await overview();
  } catch (e) {
    if (e.status === 401) askForKey(e.message);
    else view.replaceChildren(el('section', {class: 'error', id: 'page-error'}, e.message));
  }
}

window.addEventListener('hashchange', route);
route();
