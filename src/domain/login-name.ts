// Login names of SSH users (issue 18: per-user accounting). A name comes from a log line or a rule
// comment on the gateway, both hostile: OpenSSH logs the name a client *tried* verbatim (printable
// bytes, spaces included, `%.100s`), so only names of the portable POSIX set in the common Debian
// form pass, and everything else is refused with a reason — never passed on, never repaired.
//
// The rule: `^[a-z_][a-z0-9_-]*[$]?$`, at most 32 characters (useradd's limit on Debian; the `$`
// ending is Samba's machine accounts). Upper case, dots, `@` and non-ASCII names exist on some
// systems; lantop does not count them (the caller reports the session as not attributable).

export const MAX_LOGIN_NAME_LENGTH = 32;

const LOGIN_NAME = /^[a-z_][a-z0-9_-]*[$]?$/;

export type LoginNameProblem = 'empty' | 'too long' | 'not portable';

/** Why `text` is not an acceptable login name, or null when it is one exactly as given. */
export function loginNameProblem(text: unknown): LoginNameProblem | null {
  if (typeof text !== 'string' || text.length === 0) return 'empty';
  if (text.length > MAX_LOGIN_NAME_LENGTH) return 'too long';
  return LOGIN_NAME.test(text) ? null : 'not portable';
}

/** `text` when it is an acceptable login name, else null (never a repaired form). */
export function canonicalLoginName(text: unknown): string | null {
  return loginNameProblem(text) === null ? (text as string) : null;
}
