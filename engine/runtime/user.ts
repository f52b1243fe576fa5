/**
 * Resolves a Docker `user` string (`name`, `uid`, `name:group`, `uid:gid`) and `group_add` to
 * numeric ids from the container's own /etc/passwd and /etc/group, as dockerd does (moby
 * daemon/oci_linux.go#getUser). Parsing is pure; only resolveUser reads the two files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TscError } from '../../base/errors.js';

/** One /etc/passwd entry. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Home directory (HOME when the environment has none). */
  readonly home: string;
}

/** One /etc/group entry. */
export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** The numeric identity the init switches to. */
export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  /** setgroups(2) list: the primary gid, the user's supplementary groups, then group_add. */
  readonly additionalGids: readonly number[];
  /** From passwd, or `/` for a numeric uid that is not listed. */
  readonly home: string;
}

const isId = (s: string): boolean => /^[0-9]+$/.test(s);

/** Parses passwd(5) text; malformed lines are skipped like libc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const [name = '', , uid = '', gid = '', , home = ''] = f;
    if (!isId(uid) || !isId(gid)) continue;
    out.push({ name, uid: Number(uid), gid: Number(gid), home });
  }
  return out;
}

/** Parses group(5) text; malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    const [name = '', , gid = '', members = ''] = f;
    if (!isId(gid)) continue;
    out.push({ name, gid: Number(gid), members: members.split(',').filter((m) => m !== '') });
  }
  return out;
}

function findGroup(groups: readonly GroupEntry[], spec: string, what: string): number {
  if (isId(spec)) return Number(spec);
  const g = groups.find((e) => e.name === spec);
  if (!g) {
    throw new TscError(
      'TSC_CHILD_SETUP',
      `unable to find group ${spec}: no matching entries in group file`,
      {
        hint: `check ${what}`,
      },
    );
  }
  return g.gid;
}

/**
 * Resolves `user` and `groupAdd` against parsed passwd/group entries. Pure.
 * @throws TscError TSC_CHILD_SETUP `unable to find user x: no matching entries in passwd file`
 */
export function resolveUserFrom(
  user: string,
  groupAdd: readonly string[],
  passwd: readonly PasswdEntry[],
  groups: readonly GroupEntry[],
): ResolvedUser {
  const [userPart = '', groupPart] = user === '' ? ['0'] : user.split(':', 2);
  const byName = passwd.find((e) => e.name === userPart);
  const byId = isId(userPart) ? passwd.find((e) => e.uid === Number(userPart)) : undefined;
  const entry = isId(userPart) ? byId : byName;
  if (!entry && !isId(userPart)) {
    throw new TscError(
      'TSC_CHILD_SETUP',
      `unable to find user ${userPart}: no matching entries in passwd file`,
      {
        hint: 'use a numeric uid or a user that exists in the image',
      },
    );
  }
  const uid = entry ? entry.uid : Number(userPart);
  const gid =
    groupPart !== undefined && groupPart !== ''
      ? findGroup(groups, groupPart, 'user')
      : (entry?.gid ?? 0);
  const gids: number[] = [gid];
  if (entry) {
    for (const g of groups) if (g.members.includes(entry.name)) gids.push(g.gid);
  }
  for (const g of groupAdd) gids.push(findGroup(groups, g, 'group_add'));
  return { uid, gid, additionalGids: [...new Set(gids)], home: entry?.home || '/' };
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Resolves a Docker user string with the rootfs's /etc/passwd and /etc/group (missing files are
 * empty, so only numeric ids resolve).
 * @throws TscError TSC_CHILD_SETUP for a user or group that is not found
 */
export function resolveUser(
  rootfs: string,
  user: string,
  groupAdd: readonly string[] = [],
): ResolvedUser {
  const passwd = parsePasswd(readIfExists(join(rootfs, 'etc', 'passwd')));
  const groups = parseGroup(readIfExists(join(rootfs, 'etc', 'group')));
  return resolveUserFrom(user, groupAdd, passwd, groups);
}
