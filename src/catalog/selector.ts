/**
 * Label selector matching (metav1.LabelSelector semantics) and the Backstage annotation form
 * `backstage.io/kubernetes-label-selector: "app=checkout,tier in (web,api)"`.
 */
import type { LabelSelector } from '../api/workloads.ts';

export type Labels = Readonly<Record<string, string>>;

/** A selector compiled once and matched many times. */
export interface Selector {
  matches(labels: Labels | undefined): boolean;
  /** The label pairs every match must carry: lets an index narrow the candidates. */
  readonly required: readonly (readonly [string, string])[];
}

type Requirement = (labels: Labels) => boolean;

function requirement(key: string, operator: string, values: readonly string[]): Requirement {
  switch (operator) {
    case 'In':
      return (labels) => key in labels && values.includes(labels[key]!);
    case 'NotIn':
      return (labels) => !(key in labels) || !values.includes(labels[key]!);
    case 'Exists':
      return (labels) => key in labels;
    case 'DoesNotExist':
      return (labels) => !(key in labels);
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
 * Compiles a LabelSelector. An empty selector matches nothing here (unlike the API server,
 * where it matches everything): an entity must never claim a whole namespace by omission.
 */
export function compileSelector(selector: LabelSelector): Selector {
  const pairs = Object.entries(selector.matchLabels ?? {});
  const checks: Requirement[] = pairs.map(([key, value]) => (labels) => labels[key] === value);
  for (const expr of selector.matchExpressions ?? []) checks.push(requirement(expr.key, expr.operator, expr.values ?? []));
  const required = pairs.map(([k, v]) => [k, v] as const);
  for (const expr of selector.matchExpressions ?? []) {
    if (expr.operator === 'In' && expr.values?.length === 1) required.push([expr.key, expr.values[0]!] as const);
  }
  if (checks.length === 0) return { matches: () => false, required: [] };
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
  return { matches: (labels) => labels?.[key] === value, required: [[key, value]] };
}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VALUE = String.raw`[A-Za-z0-9_.-]*`;

/**
 * Parses the string form of a label selector, as `kubectl -l` and the Backstage Kubernetes
 * plugin's `backstage.io/kubernetes-label-selector` annotation take it:
 * `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by commas.
 */
export function parseSelectorString(text: string): LabelSelector {
  // No prototype: the keys are the annotation's text (`constructor=x` is a label key like any other).
  const matchLabels = Object.create(null) as Record<string, string>;
  const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
  const terms = splitTerms(text);
  if (terms.length === 0) throw new SelectorError('empty selector: expected e.g. "app.kubernetes.io/name=checkout"');
  for (const raw of terms) {
    const term = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^(${KEY})\\s*(==|=)\\s*(${VALUE})$`).exec(term))) matchLabels[m[1]!] = m[3]!;
    else if ((m = new RegExp(`^(${KEY})\\s*!=\\s*(${VALUE})$`).exec(term))) matchExpressions.push({ key: m[1]!, operator: 'NotIn', values: [m[2]!] });
    else if ((m = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`).exec(term))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      if (values.some((v) => !new RegExp(`^${VALUE}$`).test(v)) || values.every((v) => v === '')) throw new SelectorError(`bad value list in "${term}"`);
      matchExpressions.push({ key: m[1]!, operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = new RegExp(`^!\\s*(${KEY})$`).exec(term))) matchExpressions.push({ key: m[1]!, operator: 'DoesNotExist' });
    else if ((m = new RegExp(`^(${KEY})$`).exec(term))) matchExpressions.push({ key: m[1]!, operator: 'Exists' });
    else throw new SelectorError(`cannot parse "${term}": expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key`);
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
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
