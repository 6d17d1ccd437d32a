'use strict';
// The labeling page: one task at a time from GET /v1/labeling/queue, answered
// with POST /v1/labeling/tasks/{id}/annotations. Keyboard first: digits pick a
// suggestion, "/" searches every label, s / n / o skip, none, out of scope.
// Text from the server is only ever set as textContent.
(function () {
  const params = new URLSearchParams(location.search);
  const model = params.get('model') || 'support-intent';
  const annotator = params.get('annotator');  // only used without authentication
  const $ = (id) => document.getElementById(id);
  let labels = [];
  let queue = [];
  let current = null;
  let shownAt = 0;
  let matches = [];
  let highlight = 0;
  let busy = false;

  const api = cl.api;  // console.js: session cookie, CSRF header, 401 → login

  // A task's input: the text, or for an image model the logged record's thumbnail.
  function showInput(box, text) {
    box.textContent = '';
    let record = null;
    if (text.startsWith('{"image":')) {
      try { record = JSON.parse(text); } catch (e) { record = null; }
    }
    const image = record && record.image;
    if (!image || typeof image.thumbnail_png !== 'string') {
      box.textContent = text;
      return;
    }
    const img = document.createElement('img');
    img.className = 'task-image';
    img.width = 192;
    img.height = Math.max(1, Math.round(192 * (image.height || 1) / (image.width || 1)));
    img.alt = 'image ' + String(image.sha256 || '').slice(0, 12);
    img.src = 'data:image/png;base64,' + image.thumbnail_png;
    box.appendChild(img);
    const caption = document.createElement('div');
    caption.className = 'task-image-caption';
    caption.textContent = image.width + '×' + image.height + ' ' + image.format +
      ', brightness ' + Number(record.brightness).toFixed(2) +
      ', contrast ' + Number(record.contrast).toFixed(2);
    box.appendChild(caption);
  }

  function say(text, kind) {
    $('status').className = 'status' + (kind ? ' ' + kind : '');
    $('status').textContent = text;
  }

  function showProgress(p) {
    $('answered').textContent = String(p.answered);
    $('skipped').textContent = String(p.skipped);
    $('remaining').textContent = String(p.remaining);
    $('agreement').textContent =
        p.agreement === null ? '–' : Math.round(p.agreement * 100) + '% of ' + p.settled;
  }

  function labelRow(label, key, p) {
    const li = document.createElement('li');
    li.dataset.label = label;
    if (key) {
      const k = document.createElement('kbd');
      k.textContent = key;
      li.appendChild(k);
    }
    const name = document.createElement('span');
    name.className = 'label-name';
    name.textContent = label;
    li.appendChild(name);
    if (p !== undefined) {
      const track = document.createElement('span');
      track.className = 'bar-track';
      const fill = document.createElement('span');
      fill.className = 'bar-fill';
      fill.style.width = Math.round(p * 100) + '%';
      fill.style.display = 'block';
      track.appendChild(fill);
      li.appendChild(track);
      const pct = document.createElement('span');
      pct.className = 'pct';
      pct.textContent = (p * 100).toFixed(1) + '%';
      li.appendChild(pct);
    }
    li.addEventListener('click', () => submit({label}));
    return li;
  }

  function renderSearch() {
    const q = $('search').value.trim().toLowerCase().replace(/\s+/g, '_');
    const list = $('results');
    list.replaceChildren();
    matches = q ? labels.filter((l) => l.toLowerCase().includes(q)) : [];
    // Labels that start with the query come first.
    matches.sort((a, b) => (a.toLowerCase().startsWith(q) ? 0 : 1) - (b.toLowerCase().startsWith(q) ? 0 : 1));
    highlight = Math.min(highlight, Math.max(matches.length - 1, 0));
    matches.slice(0, 50).forEach((l, i) => {
      const li = labelRow(l);
      if (i === highlight) li.classList.add('highlight');
      list.appendChild(li);
    });
  }

  function render() {
    const card = $('task-card');
    card.classList.toggle('empty', !current);
    $('suggestions').replaceChildren();
    $('search').value = '';
    $('search').blur();  // a new task: the keys act on it again
    renderSearch();
    if (!current) {
      $('task-meta').textContent = '';
      $('task-text').textContent = 'Nothing to label right now. New tasks arrive as traffic is selected.';
      return;
    }
    $('task-meta').textContent = 'Task ' + current.task_id;
    showInput($('task-text'), current.text);
    current.suggestions.slice(0, 5).forEach((s, i) => {
      $('suggestions').appendChild(labelRow(s.label, String(i + 1), s.p));
    });
    shownAt = performance.now();
  }

  async function load() {
    const q = new URLSearchParams({model, limit: '10'});
    if (annotator) q.set('annotator', annotator);
    const data = await api('GET', '/v1/labeling/queue?' + q.toString());
    labels = data.labels;
    queue = data.tasks;
    $('who').textContent = data.annotator;
    $('model-name').textContent = data.model;
    showProgress(data.progress);
    current = queue.shift() || null;
    render();
  }

  async function submit(answer) {
    if (!current || busy) return;
    busy = true;
    const body = Object.assign({}, answer, {duration_ms: Math.round(performance.now() - shownAt)});
    if (annotator) body.annotator = annotator;
    try {
      const r = await api('POST', '/v1/labeling/tasks/' + encodeURIComponent(current.task_id) +
                                      '/annotations', body);
      say('Saved: ' + (r.label || r.answer), 'ok');
      const counter = r.answer === 'skip' ? 'skipped' : 'answered';
      $(counter).textContent = String(Number($(counter).textContent) + 1);
      $('remaining').textContent = String(Math.max(0, Number($('remaining').textContent) - 1));
      current = queue.shift() || null;
      if (!current) {
        await load();
      } else {
        render();
      }
    } catch (e) {
      say(e.message, 'error');
    } finally {
      busy = false;
    }
  }

  $('skip').addEventListener('click', () => submit({answer: 'skip'}));
  $('none').addEventListener('click', () => submit({answer: 'none'}));
  $('oos').addEventListener('click', () => submit({answer: 'oos'}));
  $('search').addEventListener('input', () => { highlight = 0; renderSearch(); });
  $('search').addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { highlight = Math.min(highlight + 1, matches.length - 1); renderSearch(); e.preventDefault(); }
    if (e.key === 'ArrowUp') { highlight = Math.max(highlight - 1, 0); renderSearch(); e.preventDefault(); }
    if (e.key === 'Enter' && matches.length) { e.preventDefault(); submit({label: matches[highlight]}); }
    if (e.key === 'Escape') { $('search').blur(); }
  });
  document.addEventListener('keydown', (e) => {
    if (e.target === $('search') || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '/') { e.preventDefault(); $('search').focus(); return; }
    if (!current) return;
    if (/^[1-9]$/.test(e.key)) {
      const s = current.suggestions[Number(e.key) - 1];
      if (s) submit({label: s.label});
    } else if (e.key === 's') {
      submit({answer: 'skip'});
    } else if (e.key === 'n') {
      submit({answer: 'none'});
    } else if (e.key === 'o') {
      submit({answer: 'oos'});
    }
  });
  load().catch((e) => say(e.message, 'error'));
})();
