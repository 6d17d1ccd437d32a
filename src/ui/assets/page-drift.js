'use strict';
// Drift: per served model, each signal's statistic, PSI and severity over the kept
// reports (GET /v1/drift?model=M), and the newest window's histogram of a chosen
// signal against the reference (GET /v1/drift?model=M&limit=1&histograms=true).
cl.page('drift', async (params) => {
  const {api, el, num, when, table, section, chart} = cl;
  const served = ((await api('GET', '/v1/models')).models || []).filter((m) => m.state === 'READY');
  const names = [...new Set(served.map((m) => m.name))].sort();
  const root = el('div');
  if (!names.length) {
    root.appendChild(el('div.card.empty', 'No model is served.'));
    return root;
  }
  const model = params.get('model') || (names.includes('support-intent') ? 'support-intent' : names[0]);
  root.appendChild(el('div.pills', names.map((n) => el('a', {
    href: '/ui/drift?model=' + encodeURIComponent(n), class: n === model ? 'active' : null}, n))));
  const q = '/v1/drift?model=' + encodeURIComponent(model);
  const [all, newest] = await Promise.all([api('GET', q), api('GET', q + '&limit=1&histograms=true')]);
  const reports = all.reports.filter((r) => r.state === 'ok').reverse();  // oldest first
  const latest = newest.reports[0];
  if (!latest || latest.state !== 'ok') {
    root.appendChild(el('div.card.empty', latest ? (latest.signals[0] || {}).note || latest.state : 'No report yet.'));
    return root;
  }
  const sevClass = (s) => (s === 'CRITICAL' ? 'bad' : s === 'WARNING' ? 'warn' : 'good');
  root.appendChild(section('Newest window: ' + num(latest.window.predictions) + ' predictions, ' +
                           num(latest.window.labels) + ' labels (reference v' + latest.reference_version + ')',
    el('div.muted.small', 'computed ' + when(latest.computed_ms) + '; window ' + when(latest.window.from_ms) +
       ' – ' + when(latest.window.to_ms)),
    table(['signal', 'test', 'statistic', 'p (BH)', 'PSI', 'severity', 'note'], latest.signals.map((s) => [
      el('a', {href: '/ui/drift?model=' + encodeURIComponent(model) + '&signal=' + encodeURIComponent(s.name)}, s.name),
      s.test, num(s.statistic, 4), num(s.adjusted_p_value, 3), num(s.psi, 3),
      el('span.badge.' + sevClass(s.severity), s.severity + (s.drifted ? ' · drifted' : '')), s.note || '']))));
  // Over time: PSI (and the test statistic) of every signal that has one.
  const xs = reports.map((r) => r.computed_ms / 1000);
  const signalNames = [...new Set(reports.flatMap((r) => r.signals.filter((s) => s.psi !== null || s.statistic !== null).map((s) => s.name)))];
  const valueOf = (r, name, key) => { const s = r.signals.find((x) => x.name === name); return s ? s[key] : null; };
  const withPsi = signalNames.filter((n) => reports.some((r) => valueOf(r, n, 'psi') !== null));
  root.appendChild(section('Over time (' + reports.length + ' reports)', el('div.charts',
    el('div', {'data-chart': 'psi'}, chart('PSI per signal (0.1 warning, 0.25 critical)', xs,
      withPsi.map((n) => ({label: n, values: reports.map((r) => valueOf(r, n, 'psi'))})), {legend: true})),
    el('div', {'data-chart': 'statistic'}, chart('Test statistic per signal', xs,
      signalNames.map((n) => ({label: n, values: reports.map((r) => valueOf(r, n, 'statistic'))})), {legend: true})),
    el('div', {'data-chart': 'severity'}, chart('Worst severity (0 OK, 1 warning, 2 critical)', xs,
      [{label: 'severity', values: reports.map((r) => ({OK: 0, WARNING: 1, CRITICAL: 2})[r.severity] ?? null)}])))));
  // Histogram of the chosen signal: reference vs the newest window.
  const withHist = latest.signals.filter((s) => s.histogram);
  const chosen = withHist.find((s) => s.name === params.get('signal')) ||
                 withHist.find((s) => s.name === 'confidence') || withHist[0];
  if (chosen) {
    const h = chosen.histogram;
    const labels = h.categories || h.edges.slice(0, -1).map((e, i) => num(e, 3) + '–' + num(h.edges[i + 1], 3));
    const select = el('select', {id: 'signal', onchange: (e) => {
      location.href = '/ui/drift?model=' + encodeURIComponent(model) + '&signal=' + encodeURIComponent(e.target.value);
    }}, withHist.map((s) => el('option', {value: s.name, selected: s === chosen ? true : null}, s.name)));
    root.appendChild(section('Reference vs current: ' + chosen.name, el('div', 'Signal ', select),
      el('div', {'data-chart': 'histogram'}, chart('Share per ' + (h.categories ? 'category' : 'bin'),
        labels.map((_, i) => i), [{label: 'reference', values: h.reference}, {label: 'current window', values: h.current}],
        {bars: true, categories: labels, width: 900, height: 240, legend: true}))));
  }
  return root;
});
