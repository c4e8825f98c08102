/**
 * User strings as object keys. Every entity is written by someone who may be hostile to the
 * rest of the cluster, and in JavaScript three keys reach past an object: `__proto__` (the
 * object's prototype), and `constructor` then `prototype` (the prototype every object of the
 * process shares). A path walked through them writes onto Object.prototype, and from then on
 * every object of the operator appears to have that field.
 *
 * Two rules, used wherever a tenant's string becomes a key: a *path* (segments walked one
 * after the other) never goes through these keys, and a *map* built from a tenant's keys
 * (labels, annotations, matchLabels) has no prototype, so no key written to it reaches one
 * and no key read from it comes from one.
 */

/** Keys that reach an object's prototype, or the prototype of every object. */
export const PROTOTYPE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** PROTOTYPE_KEYS for messages: `__proto__, constructor or prototype`. */
export const PROTOTYPE_KEYS_TEXT = `${PROTOTYPE_KEYS.slice(0, -1).join(', ')} or ${PROTOTYPE_KEYS.at(-1)!}`;

export function isPrototypeKey(key: string): boolean {
  return PROTOTYPE_KEYS.includes(key);
}

/** An empty record without a prototype, for keys a tenant chose. */
export function nullPrototypeRecord<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}
