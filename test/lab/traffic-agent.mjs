// Traffic agent for the router lab. One runs inside each LAN host namespace and one inside the ISP
// namespace; test/lab/lab-traffic.ts drives them with JSON lines on stdin and reads JSON lines on stdout.
//
//   {"id":1,"op":"serve","send":D,"expect":U,"timeoutMs":T[,"bind":"::"]}
//        -> {"id":1,"port":P}            listening on 0.0.0.0:P (or [::]:P, IPv6 only) for exactly one connection
//        -> {"id":1,"ok":true,"sent":D,"received":U}   (or "ok":false,"error":...)
//   {"id":2,"op":"connect","host":H,"port":P,"send":U,"expect":D,"timeoutMs":T[,"localAddress":A]}
//        -> {"id":2,"ok":true,"sent":U,"received":D}
//
// Each side writes its bytes, half-closes (FIN), reads until the peer's FIN, and reports the exact
// application byte counts; so hK downloads exactly D and uploads exactly U bytes per transfer.
// Plain JavaScript on purpose: it starts in ~50 ms with plain `node`, without tsx.
import net from 'node:net';
import readline from 'node:readline';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const MAX_BYTES = 1024 * 1024 * 1024;

function reply(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function checkSize(n) {
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_BYTES;
}

/** Writes `total` bytes respecting back-pressure, then half-closes. */
function sendAll(socket, total, done) {
  let left = total;
  const pump = () => {
    while (left > 0) {
      const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= chunk.length;
      if (!socket.write(chunk)) {
        socket.once('drain', pump);
        return;
      }
    }
    socket.end(done);
  };
  pump();
}

/** Runs one exchange on a connected socket; calls finish(error|null, sent, received) once. */
function exchange(socket, sendBytes, expectBytes, timeoutMs, finish) {
  let received = 0;
  let sent = false;
  let ended = false;
  let finished = false;
  const timer = setTimeout(() => end(new Error(`timed out after ${timeoutMs} ms (received ${received})`)), timeoutMs);
  function end(error) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (error) socket.destroy();
    finish(error, sendBytes, received);
  }
  socket.on('data', (chunk) => { received += chunk.length; });
  socket.on('end', () => { ended = true; });
  socket.on('error', (error) => end(error));
  socket.on('close', () => {
    if (!sent || !ended) return end(new Error(`connection closed early (sent=${sent}, peer FIN=${ended}, received ${received})`));
    if (received !== expectBytes) return end(new Error(`received ${received} bytes, expected ${expectBytes}`));
    end(null);
  });
  sendAll(socket, sendBytes, () => { sent = true; });
}

function serve(msg) {
  const server = net.createServer({ allowHalfOpen: true });
  let accepted = false;
  const giveUp = setTimeout(() => {
    server.close();
    if (!accepted) reply({ id: msg.id, ok: false, error: 'no connection arrived' });
  }, msg.timeoutMs);
  server.on('connection', (socket) => {
    if (accepted) return socket.destroy();
    accepted = true;
    clearTimeout(giveUp);
    server.close();
    exchange(socket, msg.send, msg.expect, msg.timeoutMs, (error, sent, received) => {
      reply(error ? { id: msg.id, ok: false, error: error.message } : { id: msg.id, ok: true, sent, received });
    });
  });
  server.on('error', (error) => {
    clearTimeout(giveUp);
    reply({ id: msg.id, ok: false, error: error.message });
  });
  const v6 = msg.bind === '::';
  server.listen({ port: 0, host: v6 ? '::' : '0.0.0.0', ipv6Only: v6 }, () => reply({ id: msg.id, port: server.address().port }));
}

function connect(msg) {
  // localAddress: the source address the connection is bound to (a host's stable or temporary IPv6).
  const socket = net.connect({ host: msg.host, port: msg.port, allowHalfOpen: true, ...(msg.localAddress ? { localAddress: msg.localAddress } : {}) });
  let connected = false;
  const giveUp = setTimeout(() => {
    socket.destroy();
    reply({ id: msg.id, ok: false, error: `connect to ${msg.host}:${msg.port} timed out` });
  }, msg.timeoutMs);
  socket.once('connect', () => {
    connected = true;
    clearTimeout(giveUp);
    exchange(socket, msg.send, msg.expect, msg.timeoutMs, (error, sent, received) => {
      reply(error ? { id: msg.id, ok: false, error: error.message } : { id: msg.id, ok: true, sent, received });
    });
  });
  socket.once('error', (error) => {
    if (connected) return; // exchange() reports it
    clearTimeout(giveUp);
    reply({ id: msg.id, ok: false, error: error.message });
  });
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return reply({ id: null, ok: false, error: 'bad JSON' });
  }
  if (!checkSize(msg.send) || !checkSize(msg.expect) || !(msg.timeoutMs > 0 && msg.timeoutMs <= 600_000)) {
    return reply({ id: msg.id, ok: false, error: 'bad sizes or timeout' });
  }
  if (msg.op === 'serve') serve(msg);
  else if (msg.op === 'connect') connect(msg);
  else reply({ id: msg.id, ok: false, error: `unknown op ${msg.op}` });
});
// The lab closes stdin (or dies) -> this agent exits.
lines.on('close', () => process.exit(0));
