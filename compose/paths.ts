/**
 * Relative paths of a canonical (long-syntax) raw tree made absolute against a base directory,
 * with `~` expanded (compose-go `paths/resolve.go`: build contexts, env_file, label_file, bind
 * sources, secret/config files, extends files, develop.watch paths). Pure: no I/O.
 */
import { isAbsolute, join, resolve } from 'node:path';

import { isRawMap, type RawMap, type RawValue } from './raw.js';

/** True for build contexts that are not local paths (git and http URLs, `name://` schemes). */
export function isRemoteContext(s: string): boolean {
  return (
    /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(s) ||
    s.startsWith('git@') ||
    (/\.git(#.*)?$/.test(s) && s.includes(':'))
  );
}

/**
 * Expands a leading `~` (alone or `~/`) to `homeDir` and makes the path absolute against `base`.
 * Windows-style paths (`C:\...`) are left as they are.
 */
export function absolutePath(base: string, p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return join(homeDir, p.slice(2));
  if (/^[a-zA-Z]:[\\/]/.test(p) || p.startsWith('\\\\')) return p;
  return isAbsolute(p) ? p : resolve(base, p);
}

/**
 * Returns a copy of `tree` (a canonicalised compose model) with its relative paths resolved
 * against `base` (the project directory, or an included project's directory).
 */
export function resolveRelativePaths(tree: RawMap, base: string, homeDir: string): RawMap {
  const abs = (p: RawValue | undefined): RawValue | undefined =>
    typeof p === 'string' ? absolutePath(base, p, homeDir) : p;
  const out: RawMap = { ...tree };

  if (isRawMap(tree.services)) {
    const services: RawMap = {};
    for (const [name, svc] of Object.entries(tree.services)) {
      services[name] = isRawMap(svc) ? resolveService(svc, base, homeDir, abs) : svc;
    }
    out.services = services;
  }
  for (const kind of ['secrets', 'configs'] as const) {
    const defs = tree[kind];
    if (!isRawMap(defs)) continue;
    const next: RawMap = {};
    for (const [name, def] of Object.entries(defs)) {
      next[name] =
        isRawMap(def) && typeof def.file === 'string'
          ? { ...def, file: abs(def.file) ?? null }
          : def;
    }
    out[kind] = next;
  }
  return out;
}

function resolveService(
  svc: RawMap,
  base: string,
  homeDir: string,
  abs: (p: RawValue | undefined) => RawValue | undefined,
): RawMap {
  const s: RawMap = { ...svc };
  if (isRawMap(s.build)) {
    const b: RawMap = { ...s.build };
    const ctx = typeof b.context === 'string' ? b.context : '.';
    if (!isRemoteContext(ctx)) b.context = absolutePath(base, ctx, homeDir);
    if (isRawMap(b.additional_contexts)) {
      const extra: RawMap = {};
      for (const [k, v] of Object.entries(b.additional_contexts)) {
        extra[k] =
          typeof v === 'string' && !isRemoteContext(v) && !v.startsWith('service:')
            ? absolutePath(base, v, homeDir)
            : v;
      }
      b.additional_contexts = extra;
    }
    s.build = b;
  }
  if (Array.isArray(s.env_file)) {
    s.env_file = s.env_file.map((e) =>
      isRawMap(e) && typeof e.path === 'string' ? { ...e, path: abs(e.path) ?? null } : e,
    );
  }
  if (Array.isArray(s.label_file)) s.label_file = s.label_file.map((p) => abs(p) ?? null);
  if (isRawMap(s.extends) && typeof s.extends.file === 'string') {
    s.extends = { ...s.extends, file: abs(s.extends.file) ?? null };
  }
  if (Array.isArray(s.volumes)) {
    s.volumes = s.volumes.map((v) => {
      if (!isRawMap(v) || v.type !== 'bind' || typeof v.source !== 'string') return v;
      return { ...v, source: absolutePath(base, v.source, homeDir) };
    });
  }
  if (isRawMap(s.develop) && Array.isArray(s.develop.watch)) {
    s.develop = {
      ...s.develop,
      watch: s.develop.watch.map((w) =>
        isRawMap(w) && typeof w.path === 'string' ? { ...w, path: abs(w.path) ?? null } : w,
      ),
    };
  }
  return s;
}
