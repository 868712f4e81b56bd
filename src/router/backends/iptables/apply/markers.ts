// Status markers: how a batched shell line reports what happened. The nonce comes from node:crypto
// (applyBatch), never from the router; router output is only searched for these markers.

/** A nonce as applyBatch makes it: 12 hex digits, nothing a shell would read as more. */
export const NONCE_PATTERN = /^[0-9a-f]{12}$/;

/** `echo` of a status marker; the split quotes keep the echoed command from matching itself. */
export function marker(nonce: string, status: string): string {
  return `echo "__LT""ST_${nonce}_${status}__"`;
}

/** The value of our marker of this kind (`r` → the `0` of `__LTST_<nonce>_r0__`), or null. */
export function readMarker(output: string, nonce: string, kind: 'r' | 'w' | 'a'): string | null {
  const m = new RegExp(`__LTST_${nonce}_${kind}([0-9]*)__`).exec(output);
  return m ? m[1]! : null;
}

/** The output without our marker lines (what the router said). */
export function withoutMarker(output: string, nonce: string): string {
  return output.split('\n').filter((line) => !line.includes(`__LTST_${nonce}_`)).join('\n').trim();
}
