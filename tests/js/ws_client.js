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
  } else if (mode === 'idle') {
    setTimeout(() => ws.close(1000), Number(args[0]));
  }
});
