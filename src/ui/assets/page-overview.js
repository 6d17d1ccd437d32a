'use strict';
// Overview: request rate, error rate and p50/p99 latency over time
// (GET /v1/metrics/history), the SLOs with their error budgets and burn rates
// (GET /v1/slo) and the firing alerts (GET /v1/alerts?state=firing).
cl.page('overview', async (params) => {
  const {api, el, num, pct, when, table, tile, section, chart} = cl;
  const minutes = Number(params.get('minutes')) || 60;
  const [history, slo, alerts] = await Promise.all([
    api('GET', '/v1/metrics/history?minutes=' + minutes), api('GET', '/v1/slo'),
    api('GET', '/v1/alerts?state=firing'),
  ]);
  const pts = history.points;
  const xs = pts.map((p) => p.ts_ms / 1000);
  const total = pts.reduce((a, p) => a + p.requests, 0);
  const errors = pts.reduce((a, p) => a + p.errors, 0);
  const last = [...pts].reverse().find((p) => p.p99_ms !== null);
  const root = el('div');
  root.appendChild(el('div.tiles4',
    tile('Requests, last ' + minutes + ' min', num(total),
         pts.length ? num(total / Math.max(1, pts.reduce((a, p) => a + p.interval_s, 0))) + ' req/s' : ''),
    tile('Errors (5xx)', num(errors), total ? pct(errors / total) : 'no requests'),
    tile('Latency p50 / p99', last ? num(last.p50_ms) + ' / ' + num(last.p99_ms) + ' ms' : '–',
         last ? 'at ' + when(last.ts_ms) : ''),
    tile('Firing alerts', num(alerts.alerts.length), alerts.alerts.length ? '' : 'all quiet')));
  root.appendChild(section('Traffic (one point per ' + history.interval_ms / 1000 + ' s)',
    el('div.charts',
      el('div', {'data-chart': 'rate'}, chart('Requests per second', xs, [{label: 'req/s', values: pts.map((p) => p.rate_per_s)}])),
      el('div', {'data-chart': 'errors'}, chart('Error rate (share of 5xx)', xs, [{label: '5xx share', values: pts.map((p) => p.error_rate)}])),
      el('div', {'data-chart': 'latency'}, chart('Latency (ms)', xs, [
        {label: 'p50', values: pts.map((p) => p.p50_ms)},
        {label: 'p99', values: pts.map((p) => p.p99_ms)}])))));
  const rows = slo.slos.map((s) => [
    el('b', s.name), pct(s.objective) + (s.threshold_ms ? ' within ' + s.threshold_ms + ' ms' : ''),
    s.sli === null ? '–' : pct(s.sli), num(s.requests),
    el('span', {class: s.error_budget.remaining < 0 ? 'bad' : s.error_budget.remaining < 0.25 ? 'warn' : 'good'},
       pct(s.error_budget.remaining)),
    ['5m', '1h', '6h', '3d'].map((w) => w + ' ' + num(s.burn_rates[w] ? s.burn_rates[w].burn_rate : null, 2)).join(' · '),
    s.alerts.filter((a) => a.firing).map((a) => a.rule).join(', ') || 'none',
  ]);
  root.appendChild(section('Service level objectives',
    slo.slos.length ? table(['SLO', 'objective', 'SLI', 'requests', 'budget left', 'burn rate', 'firing'], rows)
                    : el('div.muted', 'No SLO is configured ([slo]).')));
  root.appendChild(section('Firing alerts', alerts.alerts.length
    ? table(['alert', 'severity', 'summary', 'since'], alerts.alerts.map((a) => [
        el('b', a.name), el('span.badge.' + (a.severity === 'page' ? 'bad' : 'warn'), a.severity),
        a.summary, when(a.started_at)]))
    : el('div.muted', 'No alert is firing.')));
  return root;
});
