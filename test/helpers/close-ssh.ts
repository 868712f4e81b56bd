// Teardown for raw ssh2 connections in tests (issue 13). `end()` alone is not enough: toward a peer
// that vanished (a lab namespace deleted, a router rebooted) the FIN is never acknowledged, the
// socket stays in FIN-WAIT-1 and the test process never exits. And ssh2's own `destroy()` is a
// no-op once `end()` ran (it checks that the socket is still writable), so the socket itself is
// destroyed. Works for a Client and for a server-side Connection (both keep it in `_sock`).

interface Ssh2Connection {
  end(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/** Destroys the connection's socket now (no goodbye). */
export function destroySsh(connection: Ssh2Connection): void {
  const raw = connection as unknown as { destroy?: () => void; _sock?: { destroy(): void; destroyed?: boolean } };
  raw.destroy?.();
  raw._sock?.destroy();
}

/** Says goodbye, waits at most `graceMs` for the peer, then destroys the socket. Never rejects. */
export async function closeSsh(connection: Ssh2Connection, graceMs = 1000): Promise<void> {
  const socket = (connection as unknown as { _sock?: { destroyed?: boolean } })._sock;
  if (!socket || socket.destroyed) return;
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    connection.once('close', () => resolve());
    timer = setTimeout(resolve, graceMs);
  });
  try {
    connection.end();
  } catch {
    /* already ending */
  }
  await closed;
  clearTimeout(timer);
  destroySsh(connection);
}

export interface SshExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** One command over an exec channel of a raw ssh2 Client, bounded at 8 s (bytes as latin1). */
export function sshExec(client: { exec: import('ssh2').Client['exec'] }, command: string): Promise<SshExecResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ssh exec timed out: ${command}`)), 8_000);
    client.exec(command, (error, stream) => {
      if (error) {
        clearTimeout(timer);
        return reject(error);
      }
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      stream.on('data', (chunk: Buffer) => { stdout += chunk.toString('latin1'); });
      stream.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('latin1'); });
      stream.on('exit', (exitCode: number | null) => { code = exitCode; });
      stream.on('close', () => {
        clearTimeout(timer);
        resolve({ stdout, stderr, code });
      });
    });
  });
}
