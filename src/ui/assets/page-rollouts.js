'use strict';
// Rollouts: the active rollout of each model — stage, traffic split, the latest
// evidence (per-arm counts, the tests with their statistics and p-values, the
// sample sizes needed) and every decision with its evidence — with Promote and
// Roll back buttons (admin scope; confirmed first), and the ended rollouts.
cl.page('rollouts', async () => {
  const {api, el, num, pct, when, table, section} = cl;
  const all = (await api('GET', '/v1/rollouts?state=all&limit=50')).rollouts;
  const active = all.filter((r) => r.state === 'shadow' || r.state === 'canary');
  const details = await Promise.all(active.map((r) => api('GET', '/v1/rollouts/' + r.id)));
  const root = el('div');
  if (!details.length) root.appendChild(el('div.card.empty', 'No rollout is active.'));
  for (const r of details) root.appendChild(activeCard(r));
  root.appendChild(section('All rollouts', all.length ? table(
    ['id', 'model', 'champion → challenger', 'state', 'traffic', 'started', 'updated'],
    all.map((r) => [r.id.slice(-8), r.model, 'v' + r.champion_version + ' → v' + r.challenger_version,
                    el('span.badge.' + stateClass(r.state), r.state), r.traffic_percent + '%',
                    when(r.created_ms), when(r.updated_ms)]), 'rollout-list')
    : el('div.muted', 'None yet: a @challenger alias or POST /v1/rollouts starts one.')));
  return root;

  function stateClass(s) { return s === 'promoted' ? 'good' : s === 'rolled_back' ? 'bad' : 'warn'; }

  function evidenceTable(e) {
    if (!e || !e.champion) return el('div.muted', 'No evidence yet.');
    const arm = (a) => [num(a.requests), num(a.failures), num(a.p99_ms, 3) + ' ms', num(a.feedback),
                        num(a.mean_score, 3), num(a.score_sd, 3)];
    const parts = [table(['arm', 'requests', 'failures', 'p99', 'feedback', 'mean score', 'score sd'], [
      ['champion'].concat(arm(e.champion)), ['challenger'].concat(arm(e.challenger))])];
    if (e.required) parts.push(el('div.muted.small', 'needed per arm: ' + num(e.required.requests) + ' requests, ' + num(e.required.feedback) + ' feedback'));
    if (e.shadow && e.shadow.mirrored) {
      parts.push(el('div.small', 'shadow: ' + num(e.shadow.mirrored) + ' mirrored, agreement ' + pct(e.shadow.agreement) +
                                 ', ' + num(e.shadow.failures) + ' failures, p99 ' + num(e.shadow.p99_ms, 3) + ' ms'));
    }
    const tests = Object.entries(e.tests || {});
    if (tests.length) {
      parts.push(table(['test (is the challenger worse?)', 'statistic', 'p-value', 'df'], tests.map(([k, t]) => [
        k, num(t && t.statistic, 4), el('span', {class: t && t.p_value !== null && t.p_value < 0.05 ? 'bad' : ''}, num(t && t.p_value, 3)),
        num(t && t.df, 3)])));
    }
    if (e.verdict) parts.push(el('div.small', el('b', 'verdict: ' + e.verdict), ' — ' + [].concat(e.reasons || []).join('; ')));
    return el('div', parts);
  }

  function activeCard(r) {
    const status = el('div.status');
    const act = (what) => async () => {
      const verb = what === 'promote' ? 'Promote v' + r.challenger_version + ' to @champion' : 'Roll back to v' + r.champion_version;
      if (!window.confirm(verb + ' for ' + r.model + '?')) return;
      status.className = 'status';
      status.textContent = 'Working…';
      try {
        const done = await api('POST', '/v1/rollouts/' + r.id + '/' + what, {reason: 'from the console'});
        status.className = 'status ok';
        status.textContent = 'Rollout ' + done.state + '.';
        setTimeout(() => location.reload(), 600);
      } catch (e) {
        status.className = 'status error';
        status.textContent = e.message;
      }
    };
    const split = el('div.split', el('div.split-champion'), el('div.split-challenger'));
    split.firstChild.style.width = (100 - r.traffic_percent) + '%';
    split.lastChild.style.width = r.traffic_percent + '%';
    return section(r.model + ': v' + r.champion_version + ' → v' + r.challenger_version,
      el('div', {'data-rollout': r.id}, el('span.badge.warn', r.state), ' stage since ' + when(r.stage_started_ms),
         ' · challenger gets ' + r.traffic_percent + '% of ' + (r.state === 'shadow' ? 'mirrored traffic' : 'requests')),
      split, el('div.muted.small', 'champion ' + (100 - r.traffic_percent) + '% · challenger ' + r.traffic_percent + '%'),
      el('h3', 'Latest evidence'), evidenceTable(r.evidence),
      el('div.actions',
        el('button.primary', {id: 'promote', 'data-rollout': r.id, onclick: act('promote')}, 'Promote'),
        el('button.danger', {id: 'rollback', 'data-rollout': r.id, onclick: act('rollback')}, 'Roll back')),
      status,
      el('h3', 'Decisions'), (r.decisions || []).length ? el('div', r.decisions.map((d) => el('details.decision',
        el('summary', when(d.ts_ms) + ' · ' + d.stage + ' at ' + d.traffic_percent + '% → ', el('b', d.decision), ' · ' + d.reasons),
        evidenceTable(d.evidence))))
        : el('div.muted', 'No decision yet.'));
  }
});
