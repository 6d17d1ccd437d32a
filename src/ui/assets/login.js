'use strict';
// Sends the token to /ui/login, which sets the session cookie, then returns to the
// page that asked for it (same-origin console paths only).
(function () {
  const form = document.getElementById('login-form');
  const status = document.getElementById('status');
  const next = new URLSearchParams(location.search).get('next');
  const target = next && next.startsWith('/ui/') && !next.startsWith('//') ? next : '/ui/';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.className = 'status';
    status.textContent = 'Signing in…';
    try {
      const r = await fetch('/ui/login', {
        method: 'POST',
        headers: {'Content-Type': 'application/json'},
        credentials: 'same-origin',
        body: JSON.stringify({token: document.getElementById('token').value.trim()}),
      });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(data.error || 'HTTP ' + r.status);
      location.href = target;
    } catch (e) {
      status.className = 'status error';
      status.textContent = e.message;
    }
  });
})();
