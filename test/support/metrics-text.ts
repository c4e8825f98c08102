/** Reading series out of a Prometheus text exposition, for tests that look for one label or value. */

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** The line as exposed. */
  line: string;
}

const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const UNESCAPE: Record<string, string> = { n: '\n', '\\': '\\', '"': '"' };

/** Every sample line of the text (comments and blank lines skipped), labels unescaped. */
export function parseSeries(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, space);
    const labels: Record<string, string> = Object.create(null) as Record<string, string>;
    if (brace >= 0 && brace < space) {
      for (const m of line.slice(brace, space).matchAll(LABEL)) labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => UNESCAPE[c] ?? c);
    }
    out.push({ name, labels, value: Number(line.slice(space + 1)), line });
  }
  return out;
}

/** Every label name used in the text, e.g. to find one that no family declares. */
export function labelNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const s of parseSeries(text)) for (const k of Object.keys(s.labels)) names.add(k);
  return names;
}
