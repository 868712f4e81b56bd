// A slow router's telnet port (lab variant slow-chunked): accepts on LISTEN_PORT and forwards each
// connection to the real telnetd on 127.0.0.1:TARGET_PORT. What the client sends passes at once;
// what the router sends — negotiation, echo, output, prompts, in their order — leaves in pieces of at
// most BYTES bytes, DELAY_MS apart, as from a router whose CPU or link is slow.
// Bounded: at most 64 KiB is held per connection (the telnetd side is paused above that).
//   node slow-relay.mjs LISTEN_PORT TARGET_PORT BYTES DELAY_MS
import net from 'node:net';

const [listenPort, targetPort, bytes, delayMs] = process.argv.slice(2).map(Number);
const HIGH_WATER = 64 * 1024;
if (![listenPort, targetPort, bytes, delayMs].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write('usage: slow-relay.mjs LISTEN_PORT TARGET_PORT BYTES DELAY_MS\n');
  process.exit(2);
}

const server = net.createServer((client) => {
  const router = net.connect({ host: '127.0.0.1', port: targetPort });
  let held = Buffer.alloc(0);
  let routerEnded = false;
  let timer = null;
  const close = () => {
    if (timer) clearTimeout(timer);
    client.destroy();
    router.destroy();
  };
  const pump = () => {
    timer = null;
    if (held.length === 0) {
      if (routerEnded) client.end();
      return;
    }
    const piece = held.subarray(0, bytes);
    held = held.subarray(piece.length);
    client.write(piece);
    if (held.length < HIGH_WATER) router.resume();
    timer = setTimeout(pump, delayMs);
  };
  router.on('data', (chunk) => {
    held = Buffer.concat([held, chunk]);
    if (held.length >= HIGH_WATER) router.pause();
    if (!timer) pump();
  });
  router.on('end', () => {
    routerEnded = true;
    if (!timer) pump();
  });
  client.on('data', (chunk) => router.write(chunk));
  client.on('end', () => router.end());
  for (const socket of [client, router]) {
    socket.setNoDelay(true);
    socket.on('error', close);
  }
  client.on('close', close);
  router.on('close', () => {
    routerEnded = true;
    if (held.length === 0) client.end();
  });
});
server.on('error', (error) => {
  process.stderr.write(`slow-relay: ${error.message}\n`);
  process.exit(1);
});
server.listen(listenPort, '0.0.0.0');
