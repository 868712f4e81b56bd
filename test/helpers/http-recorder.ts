// A webhook receiver on 127.0.0.1 for the alert tests: records every request (method, path,
// headers, body) and answers each with the next scripted status, or never ('hang').
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  atMs: number;
}

export interface HttpRecorder {
  url: string;
  requests: RecordedRequest[];
  /** Answers for the next requests, in order; when used up every request gets 200. */
  script: (number | 'hang')[];
  /** Resolves once `n` requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHttpRecorder(): Promise<HttpRecorder> {
  const requests: RecordedRequest[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const recorder: Partial<HttpRecorder> = { requests, script: [] };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, atMs: Date.now() });
      for (const w of waiters.filter((w) => requests.length >= w.n)) w.resolve();
      const answer = recorder.script!.shift() ?? 200;
      if (answer === 'hang') return; // never answers; closeAllConnections() ends it
      res.writeHead(answer, { 'content-type': 'text/plain' });
      res.end(answer === 200 ? 'ok' : `status ${answer}\nfrom the test server`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  recorder.url = `http://127.0.0.1:${port}`;
  recorder.waitFor = (n, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      if (requests.length >= n) return resolve();
      const timer = setTimeout(() => reject(new Error(`only ${requests.length} of ${n} requests arrived`)), timeoutMs);
      waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  recorder.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return recorder as HttpRecorder;
}
