// A WebSocket client from npm `ws` (an independent implementation) driven by
// tests/integration/stream_test.cc. Prints one line per event:
//   http STATUS            the upgrade was refused with this HTTP status
//   open                   the upgrade succeeded
//   reply JSON             a message from the server
//   ping                   a ping from the server (answered unless autopong=0)
//   close CODE             the connection closed with this code
// Usage: node ws_client.js URL KEY MODE [ARGS...]   (KEY "-" for none)
//   messages MSG...        send each text message, wait for as many replies, close 1000
//   binary                 send one binary message
//   big BYTES              send one text message of BYTES bytes
//   idle MS AUTOPONG       stay silent for MS milliseconds (AUTOPONG 0: never answer pings)
//   flood N                send N predictions without reading the replies until the
//                          server reports this connection paused (backpressure:
//                          closedloop_websocket_connections_paused), then read them all:
//                          prints "paused ANSWERED" (replies made by then) and
//                          "replies N in order" (or where the order broke)
const http = require('http');
const WebSocket = require('ws');

const [url, key, mode, ...args] = process.argv.slice(2);
const headers = key && key !== '-' ? { 'X-Api-Key': key } : {};
const autoPong = !(mode === 'idle' && args[1] === '0');
const ws = new WebSocket(url, { headers, autoPong });
const print = (line) => process.stdout.write(line + '\n');
const deadline = setTimeout(() => { print('timeout'); process.exit(2); }, 20000);

ws.on('unexpected-response', (req, res) => {
  print('http ' + res.statusCode);
  clearTimeout(deadline);
  process.exit(0);
});
ws.on('error', (err) => print('error ' + err.message));
ws.on('ping', () => print('ping'));
ws.on('close', (code) => {
  print('close ' + code);
  clearTimeout(deadline);
  process.exit(0);
});
let replies = 0;
ws.on('message', (data, isBinary) => {
  if (mode === 'flood') {
    const id = JSON.parse(data.toString()).id;
    if (id !== replies) {
      print('reply ' + replies + ' has id ' + id);
      process.exit(3);
    }
    replies += 1;
    if (replies === Number(args[0])) {
      print('replies ' + replies + ' in order');
      ws.close(1000);
    }
    return;
  }
  print('reply ' + data.toString());
  replies += 1;
  if (mode === 'messages' && replies === args.length) ws.close(1000);
});
ws.on('open', () => {
  print('open');
  if (mode === 'messages') {
    for (const m of args) ws.send(m);
  } else if (mode === 'binary') {
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
  } else if (mode === 'big') {
    ws.send('x'.repeat(Number(args[0])));
  } else if (mode === 'flood') {
    ws._socket.pause();  // the replies pile up in the kernel, then in the server's queue
    for (let i = 0; i < Number(args[0]); ++i) {
      ws.send(JSON.stringify({ id: i, model: 'support-intent', text: 'where is my card' }));
    }
    const { port } = new URL(url);
    const waitPaused = () => {
      http.get({ host: '127.0.0.1', port, path: '/metrics', headers }, (res) => {
        let page = '';
        res.on('data', (d) => { page += d; });
        res.on('end', () => {
          if (/\nclosedloop_websocket_connections_paused 1\n/.test(page)) {
            const answered = page.match(/\nclosedloop_websocket_messages_total (\d+)\n/);
            print('paused ' + (answered ? answered[1] : '?'));
            ws._socket.resume();
          } else {
            setTimeout(waitPaused, 20);
          }
        });
      });
    };
    waitPaused();
  } else if (mode === 'idle') {
    setTimeout(() => ws.close(1000), Number(args[0]));
  }
});
