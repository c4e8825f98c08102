/**
 * Label selector matching (metav1.LabelSelector semantics) and the Backstage annotation form
 * `backstage.io/kubernetes-label-selector: "app=checkout,tier in (web,api)"`.
 *
 * Every selector is written by someone who may be hostile to the rest of the namespace, so
 * labels are read as own properties only (a selector on `constructor` must not find
 * Object.prototype's), and a selector without a positive requirement matches nothing.
 */
import { hasPositiveRequirement, LABEL_KEY_PATTERN, POSITIVE_REQUIREMENT, LABEL_VALUE_PATTERN, SELECTOR_LIMITS, type LabelSelector } from '../api/workloads.ts';

export type Labels = Readonly<Record<string, string>>;

/** A selector compiled once and matched many times. */
export interface Selector {
  matches(labels: Labels | undefined): boolean;
  /** The label pairs every match must carry: lets an index narrow the candidates. */
  readonly required: readonly (readonly [string, string])[];
}

/**
 * The longest `backstage.io/kubernetes-label-selector` annotation read. Far more than any
 * real selector needs, and it keeps parsing one cheap whatever an entity carries.
 */
export const SELECTOR_STRING_MAX_LENGTH = 4096;

/** A label's value, own properties only: `constructor` or `toString` is not a label of every object. */
export function labelValue(labels: Labels | undefined, key: string): string | undefined {
  return labels !== undefined && Object.hasOwn(labels, key) ? labels[key] : undefined;
}

type Requirement = (labels: Labels) => boolean;

function requirement(key: string, operator: string, values: readonly string[]): Requirement {
  switch (operator) {
    case 'In':
      return (labels) => {
        const value = labelValue(labels, key);
        return value !== undefined && values.includes(value);
      };
    case 'NotIn':
      return (labels) => {
        const value = labelValue(labels, key);
        return value === undefined || !values.includes(value);
      };
    case 'Exists':
      return (labels) => Object.hasOwn(labels, key);
    case 'DoesNotExist':
      return (labels) => !Object.hasOwn(labels, key);
    default:
      throw new SelectorError(`unknown operator "${operator}": use In, NotIn, Exists or DoesNotExist`);
  }
}

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

/**
 * Compiles a LabelSelector. A selector without a positive requirement (a matchLabels entry,
 * an In or an Exists expression), the empty one included, matches nothing here (unlike the
 * API server, where an empty one matches everything): an entity must never claim a whole
 * namespace by omission. claimSelector reports such a selector; this is the backstop.
 */
export function compileSelector(selector: LabelSelector): Selector {
  if (!hasPositiveRequirement(selector)) return { matches: () => false, required: [] };
  const pairs = Object.entries(selector.matchLabels ?? {});
  const checks: Requirement[] = pairs.map(
    ([key, value]) =>
      (labels) =>
        labelValue(labels, key) === value,
  );
  for (const expr of selector.matchExpressions ?? []) checks.push(requirement(expr.key, expr.operator, expr.values ?? []));
  const required = pairs.map(([k, v]) => [k, v] as const);
  for (const expr of selector.matchExpressions ?? []) {
    if (expr.operator === 'In' && expr.values?.length === 1) required.push([expr.key, expr.values[0]!] as const);
  }
  return {
    matches: (labels) => {
      const l = labels ?? {};
      return checks.every((check) => check(l));
    },
    required,
  };
}

/** A selector matching exactly one label pair. */
export function equalitySelector(key: string, value: string): Selector {
  return { matches: (labels) => labelValue(labels, key) === value, required: [[key, value]] };
}

/** Where a selector came from: the spec field (object form) or the annotation (string form). */
export type SelectorForm = 'field' | 'annotation';

const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);
const LABEL_VALUE = new RegExp(LABEL_VALUE_PATTERN);

/** A user string in a message: quoted, and cut so that a message stays short whatever it quotes. */
function shown(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}...` : text);
}

function checkKey(key: string): void {
  if (key.length > SELECTOR_LIMITS.labelKey || !LABEL_KEY.test(key)) {
    throw new SelectorError(
      `${shown(key)} is not a label key: use [<dns-prefix>/]<name>, a name of at most 63 letters, digits, "-", "_" or ".", e.g. app.kubernetes.io/name`,
    );
  }
}

function checkValue(key: string, value: string): void {
  if (value.length > SELECTOR_LIMITS.labelValue || !LABEL_VALUE.test(value)) {
    throw new SelectorError(
      `${shown(value)} (of key ${shown(key)}) is not a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
    );
  }
}

const TOO_MANY = {
  field: { matchLabels: 'matchLabels entries', matchExpressions: 'matchExpressions' },
  annotation: { matchLabels: 'key=value terms', matchExpressions: 'terms other than key=value' },
} as const;

const NO_POSITIVE_REQUIREMENT = {
  field: POSITIVE_REQUIREMENT,
  annotation:
    'must have a positive requirement (key=value, key in (...) or key): one made only of key!=value, key notin (...) or !key would claim every workload of the namespace',
} as const;

/**
 * Holds a selector to what admission holds spec.workloads.selector to: the same label key
 * and value patterns, the same list limits, a positive requirement. Read from the
 * annotation, which the API server never checks, or stored before a rule existed, a
 * selector gets no further than the field could. Throws a SelectorError saying what is wrong.
 */
export function checkSelector(selector: LabelSelector, form: SelectorForm): void {
  const labels = Object.entries(selector.matchLabels ?? {});
  const expressions = selector.matchExpressions ?? [];
  const names = TOO_MANY[form];
  if (labels.length > SELECTOR_LIMITS.matchLabels) throw new SelectorError(`${labels.length} ${names.matchLabels}, at most ${SELECTOR_LIMITS.matchLabels}`);
  if (expressions.length > SELECTOR_LIMITS.matchExpressions)
    throw new SelectorError(`${expressions.length} ${names.matchExpressions}, at most ${SELECTOR_LIMITS.matchExpressions}`);
  for (const [key, value] of labels) {
    checkKey(key);
    checkValue(key, value);
  }
  for (const { key, operator, values = [] } of expressions) {
    checkKey(key);
    const takesValues = operator === 'In' || operator === 'NotIn';
    if (!takesValues && operator !== 'Exists' && operator !== 'DoesNotExist')
      throw new SelectorError(`unknown operator ${shown(operator)}: use In, NotIn, Exists or DoesNotExist`);
    if (takesValues && values.length === 0) throw new SelectorError(`${operator} on ${shown(key)} must list at least one value`);
    if (!takesValues && values.length > 0) throw new SelectorError(`${operator} on ${shown(key)} takes no values`);
    if (values.length > SELECTOR_LIMITS.values) throw new SelectorError(`${values.length} values for ${shown(key)}, at most ${SELECTOR_LIMITS.values}`);
    for (const value of values) checkValue(key, value);
  }
  if (!hasPositiveRequirement(selector)) throw new SelectorError(NO_POSITIVE_REQUIREMENT[form]);
}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VALUE = String.raw`[A-Za-z0-9_.-]*`;

/**
 * Parses the string form of a label selector, as `kubectl -l` and the Backstage Kubernetes
 * plugin's `backstage.io/kubernetes-label-selector` annotation take it:
 * `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by commas; at
 * most SELECTOR_STRING_MAX_LENGTH characters, and held to checkSelector's rules.
 */
export function parseSelectorString(text: string): LabelSelector {
  if (text.length > SELECTOR_STRING_MAX_LENGTH) throw new SelectorError(`${text.length} characters, at most ${SELECTOR_STRING_MAX_LENGTH}`);
  // No prototype: the keys are the annotation's text (`constructor=x` is a label key like any other).
  const matchLabels = Object.create(null) as Record<string, string>;
  const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
  const terms = splitTerms(text);
  if (terms.length === 0) throw new SelectorError('empty selector: expected e.g. "app.kubernetes.io/name=checkout"');
  for (const raw of terms) {
    const term = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^(${KEY})\\s*(==|=)\\s*(${VALUE})$`).exec(term))) {
      // `app=a,app=b` asks for both, as kubectl reads it (and so matches nothing): a second
      // value for a key is kept as an In requirement beside the first, never in its place.
      const [key, value] = [m[1]!, m[3]!];
      if (!Object.hasOwn(matchLabels, key)) matchLabels[key] = value;
      else if (matchLabels[key] !== value) matchExpressions.push({ key, operator: 'In', values: [value] });
    } else if ((m = new RegExp(`^(${KEY})\\s*!=\\s*(${VALUE})$`).exec(term))) matchExpressions.push({ key: m[1]!, operator: 'NotIn', values: [m[2]!] });
    else if ((m = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`).exec(term))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      if (values.some((v) => !new RegExp(`^${VALUE}$`).test(v)) || values.every((v) => v === '')) throw new SelectorError(`bad value list in "${term}"`);
      matchExpressions.push({ key: m[1]!, operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = new RegExp(`^!\\s*(${KEY})$`).exec(term))) matchExpressions.push({ key: m[1]!, operator: 'DoesNotExist' });
    else if ((m = new RegExp(`^(${KEY})$`).exec(term))) matchExpressions.push({ key: m[1]!, operator: 'Exists' });
    else throw new SelectorError(`cannot parse "${term}": expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key`);
  }
  const selector = {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
  checkSelector(selector, 'annotation');
  return selector;
}

/** Splits on commas outside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '' || terms.length > 0) terms.push(current);
  return terms.filter((t) => t.trim() !== '');
}
