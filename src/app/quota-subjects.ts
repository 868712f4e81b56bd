// Who a quota or person command means (issue 16): DEVICE is a MAC, an address (or `ip:<address>`)
// or a name as `hosts` shows it, looked up in the history's hosts of the current router (no router
// login needed); PERSON is a saved person; `line` is every device. Unknown or ambiguous → a
// UsageError that names the candidates. Host names are router text: sanitised before shown.

import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { canonicalAddress } from '../domain/address.js';
import { canonicalMac } from '../router/tokens.js';
import type { Person, QuotaSubject } from '../domain/quota.js';
import type { KnownHost } from '../store/quota-store.js';

const MAX_CANDIDATES = 8;
const PERSON_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._'-]{0,39}$/u;
const RESERVED_NAMES = new Set(['line', 'all']);

/** A host as `hosts` shows it: `laptop (198.51.100.10, aa:bb:cc:00:00:0a)`. */
export function describeHost(host: KnownHost): string {
  const name = host.hostname === null ? '(no name)' : sanitizeText(host.hostname, 40);
  return `${name} (${[host.ip, host.mac].filter((x) => x !== null).join(', ')})`;
}

/** A display name for an identity: its host name, else the identity itself. */
export function nameOfIdentity(identity: string, hosts: readonly KnownHost[]): string {
  const host = hosts.find((h) => h.identity === identity);
  return host?.hostname ? sanitizeText(host.hostname, 40) : identity;
}

function candidates(hosts: readonly KnownHost[]): string {
  const shown = hosts.slice(0, MAX_CANDIDATES).map(describeHost);
  const more = hosts.length > MAX_CANDIDATES ? `, and ${hosts.length - MAX_CANDIDATES} more` : '';
  return shown.join('; ') + more;
}

function unique(hosts: readonly KnownHost[]): KnownHost[] {
  const seen = new Set<string>();
  return hosts.filter((h) => !seen.has(h.identity) && (seen.add(h.identity), true));
}

/** The one identity among `matches`; null for none; a UsageError naming them for several. */
function pickOne(text: string, matches: readonly KnownHost[], what: string): string | null {
  const found = unique(matches);
  if (found.length > 1) {
    throw new UsageError(`'${sanitizeText(text, 40)}' matches ${found.length} devices by ${what}: ${candidates(found)}.`, 'Name the device by its MAC instead.');
  }
  return found[0]?.identity ?? null;
}

function matchDevice(t: string, hosts: readonly KnownHost[]): string | null {
  const mac = canonicalMac(t);
  if (mac !== null) return pickOne(t, hosts.filter((h) => h.mac === mac || h.identity === mac), 'MAC');
  const address = canonicalAddress(t.startsWith('ip:') ? t.slice(3) : t);
  if (address !== null) return pickOne(t, hosts.filter((h) => h.ip === address || h.identity === `ip:${address}`), 'address');
  const lower = t.toLowerCase();
  return pickOne(t, hosts.filter((h) => h.hostname !== null && sanitizeText(h.hostname, 256).toLowerCase() === lower), 'name');
}

/**
 * The identity a DEVICE argument names among the router's known hosts. A MAC matches a host's MAC
 * (or MAC identity); an address matches a host's last address or its `ip:` identity; anything else
 * a host name (case-insensitive, as shown). Throws UsageError (unknown or ambiguous).
 */
export function resolveDevice(text: string, hosts: readonly KnownHost[]): string {
  const t = text.trim();
  if (t === '') throw new UsageError('A device must be named.', 'Give a MAC, an address or a name as `lantop hosts` shows it.');
  const identity = matchDevice(t, hosts);
  if (identity !== null) return identity;
  const shown = sanitizeText(t, 40);
  if (hosts.length === 0) {
    throw new UsageError(`No device '${shown}': the history has no devices for this router yet.`, 'Run `lantop` or `lantop usage` once while the device is online, so its history records it.');
  }
  const lower = t.toLowerCase();
  const near = hosts.filter((h) => h.hostname !== null && sanitizeText(h.hostname, 256).toLowerCase().includes(lower));
  throw new UsageError(
    `No device '${shown}' in this router's history. ${near.length > 0 ? 'Did you mean' : 'Known devices'}: ${candidates(near.length > 0 ? near : hosts)}.`,
    'Give a MAC, an address or a name as `lantop hosts` shows it.',
  );
}

/** Checks a person's name: 1–40 letters, digits, spaces and . _ ' -, not `line` or `all`. */
export function checkPersonName(text: string): string {
  const name = text.trim();
  if (!PERSON_NAME.test(name) || RESERVED_NAMES.has(name.toLowerCase())) {
    throw new UsageError(
      `'${sanitizeText(name, 40)}' cannot be a person's name.`,
      "Use 1–40 letters, digits, spaces or . _ ' - (starting with a letter or digit), other than 'line' and 'all'.",
    );
  }
  return name;
}

/**
 * The subject of `quota add WHO`: `line`; `person:NAME` or a saved person's name; `device:X` or a
 * device. A name that is both a person and a device is refused as ambiguous.
 */
export function resolveSubject(text: string, hosts: readonly KnownHost[], persons: readonly Person[]): QuotaSubject {
  const t = text.trim();
  if (t.toLowerCase() === 'line') return { kind: 'line' };
  if (t.startsWith('person:')) {
    const name = t.slice('person:'.length).trim();
    if (!persons.some((p) => p.name === name)) throw unknownPerson(name, persons);
    return { kind: 'person', name };
  }
  if (t.startsWith('device:')) return { kind: 'device', identity: resolveDevice(t.slice('device:'.length), hosts) };
  const person = persons.find((p) => p.name === t);
  if (person === undefined) {
    try {
      return { kind: 'device', identity: resolveDevice(t, hosts) };
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      throw new UsageError(error.message, 'Give a MAC, an address or a name as `lantop hosts` shows it, a person (`lantop person list`), or `line` for every device.');
    }
  }
  const identity = matchDevice(t, hosts);
  if (identity !== null) {
    throw new UsageError(`'${sanitizeText(t, 40)}' is both a person and a device.`, `Write person:${sanitizeText(t, 40)} or device:${identity}.`);
  }
  return { kind: 'person', name: person.name };
}

export function unknownPerson(name: string, persons: readonly Person[]): UsageError {
  const known = persons.map((p) => sanitizeText(p.name, 40));
  return new UsageError(
    `No person '${sanitizeText(name, 40)}'.${known.length > 0 ? ` Known: ${known.join(', ')}.` : ''}`,
    'Add one with `lantop person add NAME DEVICE…`, or see `lantop person list`.',
  );
}
