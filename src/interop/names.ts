/**
 * Turning Backstage names into Kubernetes names.
 *
 * Backstage allows upper case, `_` and `.` anywhere inside a name; a Backlot entity's
 * `metadata.name` is a DNS subdomain of at most 63 characters, and goes into label values.
 * The mapping is deterministic and depends on the name alone, except when two different
 * Backstage names of one kind and namespace map to the same Kubernetes name: then every
 * name that needed rewriting gets a short hash of its original, so neither is lost.
 */
import { createHash } from 'node:crypto';
import { KUBERNETES_NAME, KUBERNETES_NAME_MAX } from './backstage.ts';

const HASH_LENGTH = 6;

/**
 * The Kubernetes name for a Backstage name: lower case; every character other than a letter,
 * a digit, `-` or `.` becomes `-`; each dot-separated part loses the dashes at its ends and
 * empty parts are dropped (a DNS subdomain allows neither). `My_Service` → `my-service`,
 * `Web.UI` → `web.ui`, `a._b` → `a.b`.
 */
export function kubernetesName(backstageName: string): string {
  const parts = backstageName
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .split('.')
    .map((part) => part.replace(/^-+|-+$/g, ''))
    .filter((part) => part !== '');
  const name = parts
    .join('.')
    .slice(0, KUBERNETES_NAME_MAX)
    .replace(/[-.]+$/, '');
  return name === '' ? 'entity' : name;
}

/** The name with a short hash of the original appended, still at most 63 characters. */
export function hashedName(backstageName: string): string {
  const hash = createHash('sha256').update(backstageName).digest('hex').slice(0, HASH_LENGTH);
  const base = kubernetesName(backstageName)
    .slice(0, KUBERNETES_NAME_MAX - HASH_LENGTH - 1)
    .replace(/[-.]+$/, '');
  return `${base}-${hash}`;
}

/** True when a Backstage name can be the Kubernetes name once lower-cased (Backstage compares names case-insensitively). */
export function keepsItsName(backstageName: string): boolean {
  const lower = backstageName.toLowerCase();
  return lower.length <= KUBERNETES_NAME_MAX && KUBERNETES_NAME.test(lower);
}

/**
 * Kubernetes names for a set of Backstage names that share a kind and a namespace, keyed by
 * the lower-cased original. The input must hold no two names equal ignoring case (Backstage
 * itself refuses such duplicates).
 */
export function assignNames(backstageNames: readonly string[]): Map<string, string> {
  const byPlain = new Map<string, string[]>();
  for (const original of backstageNames) {
    const plain = kubernetesName(original);
    byPlain.set(plain, [...(byPlain.get(plain) ?? []), original]);
  }
  const out = new Map<string, string>();
  for (const [plain, originals] of byPlain) {
    for (const original of originals) {
      const clash = originals.length > 1 && original.toLowerCase() !== plain;
      out.set(original.toLowerCase(), clash ? hashedName(original) : plain);
    }
  }
  return out;
}
