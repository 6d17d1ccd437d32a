'use strict';
// Feedback: ratings, NPS, click-through and escalation rate over time
// (GET /v1/feedback/timeline), the totals and the comment topics with their top
// terms and example comments (GET /v1/feedback/summary), and the predictions
// behind a topic (GET /v1/predictions/{id}).
cl.page('feedback', async (params) => {
  const {api, el, num, pct, when, table, tile, section, chart} = cl;
  const model = params.get('model') || '';
  const hours = Number(params.get('hours')) || 6;
  const since = Date.now() - hours * 3600 * 1000;
  const m = model ? '&model=' + encodeURIComponent(model) : '';
  const [timeline, summary, served] = await Promise.all([
    api('GET', '/v1/feedback/timeline?since=' + since + m),
    api('GET', '/v1/feedback/summary?since=' + since + m),
    api('GET', '/v1/models').catch(() => ({models: []})),
  ]);
  const names = [...new Set(served.models.filter((x) => x.state === 'READY').map((x) => x.name))].sort();
  const root = el('div');
  root.appendChild(el('div.pills', [el('a', {href: '/ui/feedback', class: model ? null : 'active'}, 'all models')]
    .concat(names.map((n) => el('a', {href: '/ui/feedback?model=' + encodeURIComponent(n),
                                      class: n === model ? 'active' : null}, n)))));
  root.appendChild(el('div.tiles4',
    tile('Feedback, last ' + hours + ' h', num(summary.feedback), num(summary.predictions) + ' predictions'),
    tile('Mean rating', num(summary.mean_rating, 3), Object.values(summary.ratings).join(' / ') + ' (1…5)'),
    tile('NPS', num(summary.nps, 3), num(summary.nps_answers) + ' answers'),
    tile('Click-through · escalation', pct(summary.click_through_rate) + ' · ' + pct(summary.escalation_rate),
         num(summary.escalations) + ' escalations')));
  const b = timeline.buckets;
  const xs = b.map((x) => x.start_ms / 1000);
  root.appendChild(section('Over time (buckets of ' + num(timeline.bucket_ms / 60000, 3) + ' min)', el('div.charts',
    el('div', {'data-chart': 'rating'}, chart('Mean rating (1–5)', xs, [{label: 'rating', values: b.map((x) => x.mean_rating)}])),
    el('div', {'data-chart': 'nps'}, chart('NPS (−100…100)', xs, [{label: 'NPS', values: b.map((x) => x.nps)}])),
    el('div', {'data-chart': 'ctr'}, chart('Click-through rate', xs, [{label: 'CTR', values: b.map((x) => x.click_through_rate)}])),
    el('div', {'data-chart': 'escalation'}, chart('Escalation rate', xs, [{label: 'escalations / predictions', values: b.map((x) => x.escalation_rate)}])),
    el('div', {'data-chart': 'volume'}, chart('Predictions and feedback', xs, [
      {label: 'predictions', values: b.map((x) => x.predictions)},
      {label: 'feedback', values: b.map((x) => x.feedback)}], {legend: true})))));
  const topics = summary.topics;
  const behind = el('div#behind');
  const showPredictions = async (ids, title) => {
    behind.textContent = 'Loading…';
    const recs = await Promise.all(ids.slice(0, 20).map((id) => api('GET', '/v1/predictions/' + id).catch(() => null)));
    behind.textContent = '';
    behind.appendChild(el('h3', title));
    behind.appendChild(table(['when', 'model', 'input', 'label', 'confidence'], recs.filter(Boolean).map((r) => [
      when(r.ts_ms), r.model + ' v' + r.version, r.input_text === null ? '(not stored)' : r.input_text,
      r.label, num(r.confidence, 3)]), 'predictions'));
  };
  if (!topics) {
    root.appendChild(section('Comment topics', el('div.muted', 'No sentiment model is served: comments are not clustered.')));
  } else if (!topics.k) {
    root.appendChild(section('Comment topics', el('div.muted', 'Fewer than 4 distinct comments so far.')));
  } else {
    root.appendChild(section('Comment topics (k = ' + topics.k + ', silhouette ' + num(topics.silhouette, 3) + ')',
      el('div.topics', topics.clusters.map((t, i) => el('div.topic', {'data-topic': i},
        el('div', el('b', num(t.size) + ' comments'), ' · ', t.top_terms.map((w) => el('span.badge', w))),
        el('ul', t.representative_comments.map((c) => el('li', '“' + c + '”'))),
        el('button', {class: 'small-button', 'data-topic-predictions': i,
                      onclick: () => showPredictions(t.request_ids || [], 'Predictions behind topic ' + (i + 1) + ': ' + t.top_terms.join(', '))},
           'Predictions behind it (' + (t.request_ids || []).length + ')')))),
      behind));
  }
  return root;
});
