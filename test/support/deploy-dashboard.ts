/**
 * Reading deploy/monitoring/grafana-dashboard.json as Grafana would run it against
 * Prometheus: every panel's PromQL with the dashboard's variables set to "All", and the
 * metric names each expression selects.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MONITORING_DIR } from './deploy.ts';

export const DASHBOARD_PATH = join(MONITORING_DIR, 'grafana-dashboard.json');

export interface DashboardTarget {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  type: string;
  name: string;
  query: string | { query: string };
  includeAll?: boolean;
  allValue?: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export async function readDashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Every panel, rows' children included, rows left out. */
export function dashboardPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/** Grafana's own interval variables, at values that suit a Prometheus scraping every second. */
const BUILT_INS: Record<string, string> = { __rate_interval: '1m', __interval: '15s', __range: '5m' };

/** Sets every variable to its "All" value (or Grafana's built-in value); throws on one the dashboard does not define. */
export function withVariables(dashboard: Dashboard, expr: string): string {
  const values: Record<string, string> = { ...BUILT_INS };
  for (const v of dashboard.templating.list) if (v.type === 'query' && v.includeAll && v.allValue !== undefined) values[v.name] = v.allValue;
  return expr.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    if (/^\d+$/.test(name)) return whole; // "$1" in label_replace
    const value = values[name];
    if (value === undefined) throw new Error(`the expression uses $${name}, which the dashboard does not define: ${expr}`);
    return value;
  });
}

/** The `label_values(metric, label)` queries of the variables, as the metric they read. */
export function variableMetrics(dashboard: Dashboard): { variable: string; metric: string }[] {
  return dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : v.query.query;
      const match = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)$/.exec(query);
      if (!match) throw new Error(`variable ${v.name}: expected label_values(metric, label), got ${query}`);
      return { variable: v.name, metric: match[1]! };
    });
}

const AGGREGATIONS = ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'];
const LABEL_LISTS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'];
const KEYWORDS = new Set([...AGGREGATIONS, 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2']);

/** Index just past the bracket that closes the one at `start` (strings inside are skipped). */
function closing(expr: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let i = start; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') i = endOfString(expr, i) - 1;
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced ${open} in ${expr}`);
}

function endOfString(expr: string, start: number): number {
  const quote = expr[start];
  for (let i = start + 1; i < expr.length; i++) {
    if (expr[i] === '\\' && quote !== '`') i++;
    else if (expr[i] === quote) return i + 1;
  }
  throw new Error(`unterminated string in ${expr}`);
}

/**
 * The metric names a PromQL expression selects: identifiers that are not functions,
 * aggregations, keywords, label names (in braces or in by/on/... lists) or durations.
 * Selectors written only as {__name__="..."} are not seen.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') i = endOfString(expr, i);
    else if (c === '{') i = closing(expr, i, '{', '}');
    else if (c === '[') i = closing(expr, i, '[', ']');
    else if (c === '#') i = expr.includes('\n', i) ? expr.indexOf('\n', i) : expr.length;
    else if (/[0-9.]/.test(c)) {
      while (i < expr.length && /[\w.]/.test(expr[i]!)) i++;
    } else if (/[a-zA-Z_:]/.test(c)) {
      let end = i;
      while (end < expr.length && /[\w:]/.test(expr[end]!)) end++;
      const word = expr.slice(i, end);
      let next = end;
      while (next < expr.length && /\s/.test(expr[next]!)) next++;
      if (LABEL_LISTS.includes(word.toLowerCase())) i = expr[next] === '(' ? closing(expr, next, '(', ')') : end;
      else {
        if (!KEYWORDS.has(word.toLowerCase()) && expr[next] !== '(') names.add(word);
        i = end;
      }
    } else i++;
  }
  return [...names].sort();
}

/**
 * The metric names a Prometheus text exposition declares or samples: a histogram's _bucket,
 * _sum and _count, and families declared with no series yet (a counter never incremented, a
 * state gauge with nothing to report), which a query may well name.
 */
export function exposedNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const line of metricsText.split('\n')) {
    const declared = /^# TYPE ([a-zA-Z_:][\w:]*) (\w+)/.exec(line);
    if (declared) {
      const [, name, type] = declared as unknown as [string, string, string];
      names.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
      continue;
    }
    const sampled = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (sampled) names.add(sampled[1]!);
  }
  return names;
}
