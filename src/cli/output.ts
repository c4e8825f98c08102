/**
 * How commands print: kubectl-style tables (upper-case headers, columns three spaces apart,
 * `<none>` for an empty cell), and JSON or YAML for scripts.
 */
import { stringify } from 'yaml';

export const NONE = '<none>';

/** The table as text; every row must have as many cells as there are headers. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [headers, ...rows].map((row) => row.map((cell) => (cell === '' ? NONE : cell)));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('')).join('\n') + '\n';
}

export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function formatYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** `json` or `yaml` as text. */
export function formatData(format: 'json' | 'yaml', value: unknown): string {
  return format === 'json' ? formatJson(value) : formatYaml(value);
}
