'use strict';
// Runs: experiments and their runs (MLflow-compatible tracking API), each run's
// parameters and metrics, the per-step curves of a chosen metric (per-epoch loss)
// and several runs compared side by side — what MLflow's UI is used for.
cl.page('runs', async (params) => {
  const {api, el, num, when, table, section, chart} = cl;
  const exps = (await api('GET', '/api/2.0/mlflow/experiments/search?max_results=1000')).experiments || [];
  const root = el('div');
  if (!exps.length) {
    root.appendChild(el('div.card.empty', 'No experiment yet: `closedloop train` logs its runs here.'));
    return root;
  }
  // By default the most recently updated experiment that is not MLflow's empty "Default".
  exps.sort((a, b) => (b.last_update_time || 0) - (a.last_update_time || 0));
  const expId = params.get('experiment') ||
                (exps.find((e) => e.name !== 'Default') || exps[0]).experiment_id;
  root.appendChild(el('div.pills', exps.map((e) => el('a', {
    href: '/ui/runs?experiment=' + e.experiment_id, class: e.experiment_id === expId ? 'active' : null,
  }, e.name))));
  const runs = (await api('POST', '/api/2.0/mlflow/runs/search',
                          {experiment_ids: [expId], max_results: 200})).runs || [];
  if (!runs.length) {
    root.appendChild(el('div.card.empty', 'This experiment has no runs.'));
    return root;
  }
  const chosen = (params.get('runs') || '').split(',').filter(Boolean);
  const shown = chosen.length ? runs.filter((r) => chosen.includes(r.info.run_id)) : runs.slice(0, 1);
  const metricKeys = [...new Set(runs.flatMap((r) => (r.data.metrics || []).map((m) => m.key)))].sort();
  const paramOf = (r, k) => ((r.data.params || []).find((p) => p.key === k) || {}).value;
  const metricOf = (r, k) => ((r.data.metrics || []).find((m) => m.key === k) || {}).value;
  const headline = metricKeys.filter((k) => /accuracy|f1|loss/.test(k) && !/step|epoch/.test(k)).slice(0, 4);
  const boxes = new Map();
  const compareButton = el('button.primary', {
    id: 'compare',
    onclick: () => {
      const ids = [...boxes].filter(([, b]) => b.checked).map(([id]) => id);
      location.href = '/ui/runs?experiment=' + expId + '&runs=' + ids.join(',');
    },
  }, 'Compare selected');
  root.appendChild(section('Runs of ' + (exps.find((e) => e.experiment_id === expId) || {}).name,
    table(['', 'run', 'status', 'started', 'duration'].concat(headline), runs.map((r) => {
      const box = el('input', {type: 'checkbox', 'data-run': r.info.run_id,
                               checked: shown.includes(r) ? true : null});
      boxes.set(r.info.run_id, box);
      return [box, el('a', {href: '/ui/runs?experiment=' + expId + '&runs=' + r.info.run_id},
                       r.info.run_name || r.info.run_id.slice(0, 8)),
              r.info.status, when(r.info.start_time),
              r.info.end_time ? num((r.info.end_time - r.info.start_time) / 1000, 3) + ' s' : '–']
          .concat(headline.map((k) => num(metricOf(r, k), 4)));
    }), 'runs'), el('div.actions', compareButton)));
  // Side by side: every parameter and final metric of the shown runs.
  const names = shown.map((r) => r.info.run_name || r.info.run_id.slice(0, 8));
  const paramKeys = [...new Set(shown.flatMap((r) => (r.data.params || []).map((p) => p.key)))].sort();
  const differs = (vals) => new Set(vals.map(String)).size > 1;
  const rowsOf = (keys, get) => keys.map((k) => {
    const vals = shown.map((r) => get(r, k));
    return [el(differs(vals) && shown.length > 1 ? 'b' : 'span', k)].concat(vals.map((v) => v === undefined ? '–' : num(v, 4)));
  });
  root.appendChild(section(shown.length > 1 ? 'Compare ' + shown.length + ' runs' : 'Run ' + names[0],
    el('div.row', el('div.grow', el('h3', 'Parameters'), table(['parameter'].concat(names), rowsOf(paramKeys, paramOf))),
       el('div.grow', el('h3', 'Metrics (last value)'), table(['metric'].concat(names), rowsOf(metricKeys, metricOf))))));
  // Curves: the history of each metric logged at more than one step (its latest
  // value has a step above 0; final metrics are logged at step 0).
  const curveKeys = metricKeys.filter((k) => shown.some((r) =>
    (r.data.metrics || []).some((m) => m.key === k && m.step > 0)));
  const histories = await Promise.all(shown.flatMap((r) => curveKeys.map((k) =>
    api('GET', '/api/2.0/mlflow/metrics/get-history?run_id=' + r.info.run_id + '&metric_key=' + encodeURIComponent(k))
      .then((h) => ({run: r, key: k, points: (h.metrics || []).sort((a, b) => a.step - b.step)})))));
  const curves = el('div.charts');
  for (const k of curveKeys) {
    const per = histories.filter((h) => h.key === k);
    if (!per.some((h) => h.points.length > 1)) continue;
    const steps = [...new Set(per.flatMap((h) => h.points.map((p) => p.step)))].sort((a, b) => a - b);
    curves.appendChild(el('div', {'data-chart': 'metric:' + k}, chart(k + ' by step', steps, per.map((h) => {
      const at = new Map(h.points.map((p) => [p.step, p.value]));
      return {label: h.run.info.run_name || h.run.info.run_id.slice(0, 8), values: steps.map((s) => at.has(s) ? at.get(s) : null)};
    }), {time: false, legend: true})));
  }
  root.appendChild(section('Curves', curves.childNodes.length ? curves
    : el('div.muted', 'No metric of these runs was logged at more than one step.')));
  return root;
});
