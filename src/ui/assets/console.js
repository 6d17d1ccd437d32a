'use strict';
// What every console page shares: the API client (session cookie, CSRF header on
// state-changing calls, 401 → login), the header, a DOM builder that only ever sets
// text (never HTML from the server), number formats and uPlot charts.
// Exposed as window.cl; each page's code (page-NAME.js, all loaded by
// console.html so no script waits for another round trip) registers with
// cl.page(name, render); the page of the path renders, returning its content.
(function () {
  const PAGES = [
    ['overview', '/ui/', 'Overview'], ['models', '/ui/models', 'Models'],
    ['runs', '/ui/runs', 'Runs'], ['drift', '/ui/drift', 'Drift'],
    ['feedback', '/ui/feedback', 'Feedback'], ['rollouts', '/ui/rollouts', 'Rollouts'],
    ['label', '/ui/label', 'Labeling'],
  ];
  const pages = {};

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)closedloop_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : '';
  }

  async function api(method, path, body) {
    const headers = {Accept: 'application/json'};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET') headers['X-CSRF-Token'] = csrf();
    const r = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status === 401) {
      location.href = '/ui/login?next=' + encodeURIComponent(location.pathname + location.search);
      throw new Error('signed out');
    }
    const type = r.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await r.json().catch(() => ({})) : await r.text();
    if (!r.ok) {
      const e = new Error((data && (data.error || data.message)) || 'HTTP ' + r.status);
      e.status = r.status;
      throw e;
    }
    return data;
  }

  // el('div.card#id', {attrs}, children...) — strings become text nodes.
  function el(spec, attrs, ...children) {
    const m = spec.match(/^([a-z0-9]+)((?:[.#][\w-]+)*)$/i);
    const node = document.createElement(m ? m[1] : 'div');
    if (m) {
      for (const part of m[2].match(/[.#][\w-]+/g) || []) {
        if (part[0] === '.') node.classList.add(part.slice(1));
        else node.id = part.slice(1);
      }
    }
    if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
      children.unshift(attrs);
      attrs = null;
    }
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function num(v, digits = 3) {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    if (typeof v !== 'number') return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return v.toLocaleString('en');
    return Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(digits)).toString();
  }
  const pct = (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(v < 0.1 ? 2 : 1) + '%');
  const when = (ms) => (ms ? new Date(ms).toLocaleString('en-GB') : '–');

  function table(headers, rows, cls) {
    return el('table' + (cls ? '.' + cls : ''),
              el('thead', el('tr', headers.map((h) => el('th', h)))),
              el('tbody', rows.map((r) => el('tr', r.map((c) => el('td', c))))));
  }

  function tile(label, value, note) {
    return el('div.tile', el('div.muted.small', label), el('div.big', value),
              note ? el('div.muted.small', note) : null);
  }

  function section(title, ...children) {
    return el('section.card.spaced', el('h2', title), ...children);
  }

  const COLORS = ['#2456d6', '#d6452b', '#1f9d55', '#b7791f', '#7c3aed', '#0e7490', '#be185d',
                  '#4b5563'];

  // A time or x-y line chart. xs: numbers (seconds since the epoch when time);
  // series: [{label, values, color?, points?}]. The container carries
  // data-points = the number of drawn (non-null) points, for tests.
  function chart(title, xs, series, opts = {}) {
    const box = el('div.chart', el('div.chart-title', title));
    let drawn = 0;
    for (const s of series) drawn += s.values.filter((v) => v !== null && v !== undefined).length;
    box.dataset.points = String(drawn);
    box.dataset.series = String(series.length);
    if (!xs.length || drawn === 0) {
      box.appendChild(el('div.empty.small', 'No data yet'));
      return box;
    }
    const width = opts.width || 440;
    const bars = opts.bars;
    const config = {
      width, height: opts.height || 200,
      scales: {x: {time: opts.time !== false && !bars, distr: bars ? 2 : 1}},
      axes: [{stroke: '#667085', values: bars && opts.categories
        ? (u, ticks) => ticks.map((t) => opts.categories[t] ?? '') : undefined},
             {stroke: '#667085', size: 56}],
      legend: {show: series.length > 1 || !!opts.legend},
      series: [{}].concat(series.map((s, i) => ({
        label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: 2,
        fill: bars ? (s.color || COLORS[i % COLORS.length]) + '55' : undefined,
        paths: bars ? uPlot.paths.bars({size: [0.8 / series.length, 60], align: i ? 1 : -1}) : undefined,
        points: {show: s.points ?? (xs.length < 40)}, spanGaps: true,
        dash: s.dash,
      }))),
    };
    const holder = el('div');
    box.appendChild(holder);
    // uPlot measures its container: build once the box is in the page.
    requestAnimationFrame(() => new uPlot(config, [xs].concat(series.map((s) => s.values)), holder));
    return box;
  }

  function header(active) {
    const bar = document.getElementById('bar');
    bar.textContent = '';
    bar.appendChild(el('span.brand', 'closedloop'));
    bar.appendChild(el('nav', PAGES.map(([name, href, title]) =>
      el('a', {href, class: name === active ? 'active' : null, 'data-page': name}, title))));
    bar.appendChild(el('span.spacer'));
    bar.appendChild(el('span.who#who'));
    bar.appendChild(el('button.link', {
      id: 'signout',
      onclick: async () => {
        await fetch('/ui/logout', {method: 'POST', credentials: 'same-origin',
                                   headers: {'X-CSRF-Token': csrf()}});
        location.href = '/ui/login';
      },
    }, 'Sign out'));
  }

  function page(name, render) { pages[name] = render; }

  // Renders the page of this path; marks <body data-ready> and records the load time
  // (navigation start → data drawn) as data-load-ms.
  function entryOfPath() {
    const path = location.pathname.replace(/\/+$/, '') || '/ui';
    return PAGES.find(([, href]) => href.replace(/\/+$/, '') === path) || PAGES[0];
  }

  async function start() {
    const entry = entryOfPath();
    header(entry[0]);
    const main = document.getElementById('main');
    try {
      const content = await pages[entry[0]](new URLSearchParams(location.search));
      main.textContent = '';
      main.appendChild(content);
    } catch (e) {
      main.textContent = '';
      main.appendChild(el('div.card.error', e.status === 403
        ? 'Your key lacks the scope this page needs: ' + e.message : 'Could not load: ' + e.message));
    }
    requestAnimationFrame(() => requestAnimationFrame(() => {
      document.body.dataset.loadMs = String(Math.round(performance.now()));
      document.body.dataset.ready = '1';
    }));
  }

  window.cl = {api, el, num, pct, when, table, tile, section, chart, page, start, csrf, COLORS};
  document.addEventListener('DOMContentLoaded', () => {
    if (!document.getElementById('main')) {  // a page with its own script (labeling)
      if (document.getElementById('bar')) header(entryOfPath()[0]);
      return;
    }
    start();
  });
})();
