// lantop's tag on a block object (an iptables comment, an nft element comment):
// `lantop-block:<identity>@<unix seconds of the expiry>`, e.g.
// `lantop-block:02:00:5e:10:00:01@1767225600` or `lantop-block:ip:198.51.100.10@1767225600`.
// The identity is the history's (a canonical MAC, or `ip:` and a canonical address); the expiry
// lets lantop lift a block on a router whose firewall holds none. Read back, a tag is router
// text: it counts only when every part re-validates to exactly itself.
import { canonicalAddress } from '../../domain/address.js';
import { canonicalMac } from '../tokens.js';
import { UsageError } from '../../errors.js';
import { BLOCK_TAG_PREFIX, MAX_BLOCK_MS, type BlockTarget } from './block.js';

/** The identity as is when it is a canonical MAC or `ip:<canonical address>`; otherwise null. */
export function blockIdentity(text: string): string | null {
  if (typeof text !== 'string' || text.length > 48) return null;
  if (canonicalMac(text) === text) return text;
  if (text.startsWith('ip:') && canonicalAddress(text.slice(3)) === text.slice(3)) return text;
  return null;
}

/** The tag for a block, or null when the identity is not a valid token. */
export function blockTag(identity: string, untilMs: number): string | null {
  const valid = blockIdentity(identity);
  if (valid === null || !Number.isFinite(untilMs) || untilMs <= 0) return null;
  return `${BLOCK_TAG_PREFIX}${valid}@${Math.ceil(untilMs / 1000)}`;
}

/** A tag read back: identity and expiry when it is lantop's and valid, else null. */
export function parseBlockTag(text: string): { identity: string; untilMs: number } | null {
  if (typeof text !== 'string' || !text.startsWith(BLOCK_TAG_PREFIX)) return null;
  const body = text.slice(BLOCK_TAG_PREFIX.length);
  const at = body.lastIndexOf('@');
  if (at < 0) return null;
  const identity = blockIdentity(body.slice(0, at));
  const seconds = body.slice(at + 1);
  if (identity === null || !/^[1-9][0-9]{0,11}$/.test(seconds)) return null;
  return { identity, untilMs: Number(seconds) * 1000 };
}

/** Checks a target before anything is planned: valid tokens, an expiry in the future and within a year. */
export function checkBlockTarget(target: BlockTarget, nowMs: number): void {
  if (blockIdentity(target.identity) === null) throw new UsageError(`Cannot block "${target.identity.slice(0, 60)}": not a MAC address or ip:<address>.`);
  if (target.addresses.some((a) => canonicalAddress(a) === null)) throw new UsageError('Cannot block: one of the addresses is not an IPv4 or IPv6 address.');
  if (!Number.isFinite(target.untilMs) || target.untilMs <= nowMs) throw new UsageError('Cannot block: the end of the block is not in the future.', 'Give --for DURATION (e.g. 90s, 20m, 2h) or --until TIME later than now.');
  if (target.untilMs - nowMs > MAX_BLOCK_MS) throw new UsageError('Cannot block for more than a year at once.', 'Give a shorter --for or an earlier --until.');
}
