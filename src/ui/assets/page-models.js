'use strict';
// Models: the registered models with their versions, aliases and stages; a
// version's model card (rendered), its metrics, reliability diagram and confusion
// matrix (GET /v1/models/{name}/versions/{v}/metrics and .../card); the diff of
// two versions' metrics. Reads the MLflow-compatible registry API.
cl.page('models', async (params) => {
  const {api, el, num, pct, when, table, section, chart} = cl;
  const list = await api('GET', '/api/2.0/mlflow/registered-models/search?max_results=1000');
  const models = list.registered_models || [];
  const root = el('div');
  if (!models.length) {
    root.appendChild(el('div.card.empty', 'No model is registered yet (closedloop train … --register).'));
    return root;
  }
  const name = params.get('model') || models[0].name;
  const picker = el('div.pills', models.map((m) => el('a', {
    href: '/ui/models?model=' + encodeURIComponent(m.name), class: m.name === name ? 'active' : null,
  }, m.name)));
  root.appendChild(picker);
  const found = await api('GET', '/api/2.0/mlflow/model-versions/search?filter=' +
                          encodeURIComponent("name='" + name.replace(/'/g, "''") + "'"));
  const versions = (found.model_versions || []).sort((a, b) => Number(b.version) - Number(a.version));
  const tag = (v, key) => ((v.tags || []).find((t) => t.key === key) || {}).value;
  const selected = params.get('version') || (versions.find((v) => v.aliases.includes('champion')) || versions[0] || {}).version;
  const compare = params.get('compare') || (versions.find((v) => v.version !== selected) || {}).version;
  const link = (v, extra) => '/ui/models?model=' + encodeURIComponent(name) + '&version=' + v + (extra || '');
  root.appendChild(section('Versions of ' + name, table(
    ['version', 'aliases', 'stage', 'flavor', 'accuracy', 'macro-F1', 'ECE', 'created', ''],
    versions.map((v) => [
      el('a', {href: link(v.version)}, 'v' + v.version),
      v.aliases.map((a) => el('span.badge', '@' + a)), v.current_stage, tag(v, 'closedloop.flavor') || '',
      num(Number(tag(v, 'closedloop.metric.test_accuracy') ?? tag(v, 'closedloop.metric.validation_accuracy'))),
      num(Number(tag(v, 'closedloop.metric.test_macro_f1') ?? tag(v, 'closedloop.metric.validation_macro_f1'))),
      num(Number(tag(v, 'closedloop.metric.test_ece') ?? tag(v, 'closedloop.metric.validation_ece'))),
      when(v.creation_timestamp),
      v.version === selected ? el('span.muted', 'shown') : el('a', {href: link(selected, '&compare=' + v.version)}, 'diff with v' + selected),
    ]), 'versions')));
  if (!selected) return root;
  const base = '/v1/models/' + encodeURIComponent(name) + '/versions/';
  const [metrics, card, other] = await Promise.all([
    api('GET', base + selected + '/metrics'), api('GET', base + selected + '/card').catch(() => ''),
    compare ? api('GET', base + compare + '/metrics').catch(() => null) : null,
  ]);
  const split = metrics.test ? 'test' : 'validation';
  const rep = metrics[split];
  if (rep) {
    const rel = rep.reliability || [];
    const filled = rel.filter((b) => b.count > 0);
    root.appendChild(section('v' + selected + ' on its ' + split + ' split (' + num(rep.rows) + ' rows)',
      el('div.stats-row', ['accuracy', 'macro_f1', 'weighted_f1', 'log_loss', 'roc_auc', 'ece'].map((k) =>
        el('div.stat-box', el('div.muted.small', k), el('b', num(rep[k], 4))))),
      el('div.charts',
        el('div', {'data-chart': 'reliability'}, chart('Reliability diagram (accuracy by confidence)',
          filled.map((b) => b.mean_confidence), [
            {label: 'accuracy', values: filled.map((b) => b.accuracy), points: true},
            {label: 'perfect calibration', values: filled.map((b) => b.mean_confidence), dash: [4, 4]}],
          {time: false, legend: true})),
        el('div', {'data-chart': 'confidence-bins'}, chart('Rows per confidence bin',
          rel.map((b, i) => i), [{label: 'rows', values: rel.map((b) => b.count)}],
          {bars: true, categories: rel.map((b) => b.lower.toFixed(2))}))),
      confusion(rep), perClass(rep)));
    if (other) root.appendChild(diff(rep, other[other.test ? 'test' : 'validation'], selected, compare));
  }
  root.appendChild(section('Model card', card ? markdown(String(card)) : el('div.muted', 'No model card.')));
  return root;

  // The classes most often confused (all of them when there are at most 12).
  function confusion(r) {
    const m = r.confusion_matrix || [];
    const labels = r.labels || [];
    let keep = labels.map((_, i) => i);
    if (labels.length > 12) {
      const off = labels.map((_, i) => m[i].reduce((a, v, j) => a + (i === j ? 0 : v), 0) +
                                     m.reduce((a, row, j) => a + (i === j ? 0 : row[i]), 0));
      keep = keep.sort((a, b) => off[b] - off[a]).slice(0, 12).sort((a, b) => a - b);
    }
    const max = Math.max(1, ...keep.flatMap((i) => keep.map((j) => m[i][j])));
    const grid = el('table.matrix', el('thead', el('tr', el('th', 'true ↓ / predicted →'),
      keep.map((j) => el('th.rot', el('span', labels[j]))))),
      el('tbody', keep.map((i) => el('tr', el('th', labels[i]), keep.map((j) => {
        const td = el('td', m[i][j] ? String(m[i][j]) : '');
        const a = m[i][j] / max;
        td.style.background = i === j ? `rgba(31,157,85,${0.12 + 0.6 * a})` : m[i][j] ? `rgba(214,69,43,${0.12 + 0.7 * a})` : '';
        return td;
      })))));
    return el('div.spaced', el('h3', 'Confusion matrix' + (labels.length > 12 ? ' (the 12 most confused of ' + labels.length + ' classes)' : '')),
              el('div.scroll', grid));
  }

  function perClass(r) {
    const rows = [...(r.per_class || [])].sort((a, b) => a.f1 - b.f1);
    return el('details.spaced', el('summary', 'Per class (' + rows.length + ', weakest first)'),
      table(['class', 'precision', 'recall', 'F1', 'support'],
            rows.map((c) => [c.label, num(c.precision), num(c.recall), num(c.f1), num(c.support)])));
  }

  function diff(a, b, va, vb) {
    if (!b) return section('Diff', el('div.muted', 'v' + vb + ' has no metrics.'));
    const keys = ['accuracy', 'macro_f1', 'weighted_f1', 'log_loss', 'roc_auc', 'ece'];
    const lower = new Set(['log_loss', 'ece']);
    const rows = keys.map((k) => {
      const d = a[k] !== null && b[k] !== null && a[k] !== undefined && b[k] !== undefined ? a[k] - b[k] : null;
      const better = d === null || d === 0 ? '' : (d > 0) !== lower.has(k) ? 'good' : 'bad';
      return [k, num(b[k], 4), num(a[k], 4), el('span', {class: better}, d === null ? '–' : (d > 0 ? '+' : '') + num(d, 3))];
    });
    const f1 = new Map((b.per_class || []).map((c) => [c.label, c.f1]));
    const moved = (a.per_class || []).filter((c) => f1.has(c.label))
        .map((c) => [c.label, c.f1 - f1.get(c.label), f1.get(c.label), c.f1])
        .sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])).slice(0, 10);
    return section('Diff: v' + va + ' against v' + vb, el('div.row',
      el('div.grow', table(['metric', 'v' + vb, 'v' + va, 'change'], rows, 'diff')),
      el('div.grow', el('div.muted.small', 'Classes whose F1 moved most'),
         table(['class', 'v' + vb, 'v' + va, 'change'], moved.map(([l, d, x, y]) =>
           [l, num(x), num(y), el('span', {class: d >= 0 ? 'good' : 'bad'}, (d > 0 ? '+' : '') + num(d, 3))])))));
  }

  // Headings, paragraphs, lists, tables, code and **bold** / `code` spans; text only.
  function markdown(src) {
    const out = el('div.markdown');
    const lines = src.split('\n');
    const inline = (text) => {
      const node = el('span');
      for (const part of text.split(/(\*\*[^*]+\*\*|`[^`]+`)/)) {
        if (part.startsWith('**') && part.endsWith('**') && part.length > 4) node.appendChild(el('b', part.slice(2, -2)));
        else if (part.startsWith('`') && part.endsWith('`') && part.length > 2) node.appendChild(el('code', part.slice(1, -1)));
        else if (part) node.appendChild(document.createTextNode(part));
      }
      return node;
    };
    for (let i = 0; i < lines.length; ++i) {
      const line = lines[i];
      if (!line.trim()) continue;
      const h = line.match(/^(#{1,6})\s+(.*)$/);
      if (h) { out.appendChild(el('h' + Math.min(6, h[1].length + 2), inline(h[2]))); continue; }
      if (line.startsWith('```')) {
        const code = [];
        while (++i < lines.length && !lines[i].startsWith('```')) code.push(lines[i]);
        out.appendChild(el('pre', code.join('\n')));
        continue;
      }
      if (line.trim().startsWith('|')) {
        const rows = [];
        for (; i < lines.length && lines[i].trim().startsWith('|'); ++i) {
          const cells = lines[i].trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
          if (!cells.every((c) => /^:?-+:?$/.test(c))) rows.push(cells);
        }
        --i;
        out.appendChild(el('table', el('thead', el('tr', rows[0].map((c) => el('th', inline(c))))),
          el('tbody', rows.slice(1).map((r) => el('tr', r.map((c) => el('td', inline(c))))))));
        continue;
      }
      if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
        const ordered = /^\s*\d+\./.test(line);
        const list = el(ordered ? 'ol' : 'ul');
        for (; i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i]); ++i) {
          list.appendChild(el('li', inline(lines[i].replace(/^\s*([-*]|\d+\.)\s+/, ''))));
        }
        --i;
        out.appendChild(list);
        continue;
      }
      const para = [line];
      while (i + 1 < lines.length && lines[i + 1].trim() && !/^(#|\||```|\s*[-*]\s|\s*\d+\.\s)/.test(lines[i + 1])) para.push(lines[++i]);
      out.appendChild(el('p', inline(para.join(' '))));
    }
    return out;
  }
});
