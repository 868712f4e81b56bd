// Byte agent of the gateway lab (gateway-traffic.ts drives it with JSON lines on stdin/stdout):
// traffic-agent.mjs's exchange, plus a fixed listening port (the server end of an `ssh -L`
// forward) and SOCKS5 CONNECT (through an `ssh -D` forward) on the client side.
//
//   {"id":1,"op":"serve","port":P|0,"send":D,"expect":U,"timeoutMs":T}
//        -> {"id":1,"port":P}   then {"id":1,"ok":true,"sent":D,"received":U} (or ok:false, error)
//   {"id":2,"op":"connect","host":H,"port":P,"socks":{"host":SH,"port":SP}?,"send":U,"expect":D,"timeoutMs":T}
//        -> {"id":2,"ok":true,"sent":U,"received":D}
//
// Each side writes its bytes, half-closes, reads until the peer's FIN: exact application bytes.
// The SOCKS handshake stays between this agent and the local ssh client (it is not tunnel payload).
import net from 'node:net';
import readline from 'node:readline';

const CHUNK = Buffer.alloc(64 * 1024, 0x62);
const MAX_BYTES = 1024 * 1024 * 1024;

const reply = (message) => process.stdout.write(JSON.stringify(message) + '\n');
const sizeOk = (n) => Number.isSafeInteger(n) && n >= 0 && n <= MAX_BYTES;

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

/** One exchange on a connected socket; `initial` is data that arrived with the SOCKS reply. */
function exchange(socket, msg, initial, finish) {
  let received = initial;
  let sent = false;
  let ended = false;
  let finished = false;
  const timer = setTimeout(() => end(new Error(`timed out after ${msg.timeoutMs} ms (received ${received})`)), msg.timeoutMs);
  function end(error) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (error) socket.destroy();
    finish(error ? { id: msg.id, ok: false, error: error.message } : { id: msg.id, ok: true, sent: msg.send, received });
  }
  socket.on('data', (chunk) => { received += chunk.length; });
  socket.on('end', () => { ended = true; });
  socket.on('error', (error) => end(error));
  socket.on('close', () => {
    if (!sent || !ended) return end(new Error(`connection closed early (sent=${sent}, peer FIN=${ended}, received ${received})`));
    if (received !== msg.expect) return end(new Error(`received ${received} bytes, expected ${msg.expect}`));
    end(null);
  });
  sendAll(socket, msg.send, () => { sent = true; });
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
    exchange(socket, msg, 0, reply);
  });
  server.on('error', (error) => {
    clearTimeout(giveUp);
    reply({ id: msg.id, ok: false, error: error.message });
  });
  server.listen({ port: msg.port ?? 0, host: '0.0.0.0' }, () => reply({ id: msg.id, port: server.address().port }));
}

/** SOCKS5 without authentication, CONNECT to an IPv4 address (RFC 1928); calls back with leftover bytes. */
function socksConnect(socket, host, port, callback) {
  const octets = host.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) return callback(new Error(`bad SOCKS target ${host}`));
  let buffered = Buffer.alloc(0);
  let stage = 'method';
  const onData = (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (stage === 'method' && buffered.length >= 2) {
      if (buffered[0] !== 5 || buffered[1] !== 0) return fail(`SOCKS method refused (${buffered.subarray(0, 2).toString('hex')})`);
      buffered = buffered.subarray(2);
      stage = 'reply';
      socket.write(Buffer.from([5, 1, 0, 1, ...octets, port >> 8, port & 0xff]));
    }
    if (stage === 'reply' && buffered.length >= 10) {
      if (buffered[1] !== 0) return fail(`SOCKS CONNECT failed, reply ${buffered[1]}`);
      if (buffered[3] !== 1) return fail(`SOCKS reply address type ${buffered[3]}`);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      callback(null, buffered.length - 10);
    }
  };
  const fail = (why) => {
    socket.removeListener('data', onData);
    callback(new Error(why));
  };
  const onError = (error) => callback(error);
  socket.on('data', onData);
  socket.once('error', onError);
  socket.write(Buffer.from([5, 1, 0]));
}

function connect(msg) {
  const target = msg.socks ?? { host: msg.host, port: msg.port };
  const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
  let done = false;
  const giveUp = setTimeout(() => {
    socket.destroy();
    finishOnce({ id: msg.id, ok: false, error: `connect to ${target.host}:${target.port} timed out` });
  }, msg.timeoutMs);
  const finishOnce = (message) => {
    if (done) return;
    done = true;
    clearTimeout(giveUp);
    reply(message);
  };
  const start = (leftover) => {
    clearTimeout(giveUp);
    exchange(socket, msg, leftover, finishOnce);
  };
  socket.once('connect', () => {
    if (!msg.socks) return start(0);
    socksConnect(socket, msg.host, msg.port, (error, leftover) => {
      if (error) {
        socket.destroy();
        return finishOnce({ id: msg.id, ok: false, error: error.message });
      }
      start(leftover);
    });
  });
  socket.once('error', (error) => finishOnce({ id: msg.id, ok: false, error: error.message }));
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return reply({ id: null, ok: false, error: 'bad JSON' });
  }
  if (!sizeOk(msg.send) || !sizeOk(msg.expect) || !(msg.timeoutMs > 0 && msg.timeoutMs <= 600_000)) {
    return reply({ id: msg.id, ok: false, error: 'bad sizes or timeout' });
  }
  if (msg.op === 'serve') serve(msg);
  else if (msg.op === 'connect') connect(msg);
  else reply({ id: msg.id, ok: false, error: `unknown op ${msg.op}` });
});
lines.on('close', () => process.exit(0));
