/**
 * managedFields cut out of a response's JSON text before it is parsed.
 *
 * In a list of workloads, managedFields is about half the bytes and most of the objects
 * JSON.parse would make (every field of every manager is a small object of its own), and a
 * cache that drops it after parsing has paid for all of them, in parse time and in garbage
 * to collect. Cutting it out of the text first costs a scan of those bytes and no objects.
 *
 * The cut is exact on JSON: an occurrence counts only where `"managedFields"` is a key (it
 * follows `{` or `,`, so it is not the inside of a string) whose value is an array, and the
 * array's end is found by matching brackets outside strings. Every such array is cut, at any
 * depth: use it only for resources whose cache keeps no other field of that name (the
 * built-in workloads, EndpointSlices, Jobs and Namespaces, whose schemas have it in
 * metadata alone). Text it cannot make sense of is returned unchanged, for JSON.parse to
 * judge.
 */

const KEY = '"managedFields":[';
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/**
 * A filter that empties every managedFields array of the text but for the entries of
 * `keepManager` (none when it is undefined). An entry is kept when it holds
 * `"manager":"<keepManager>"`: in a managedFields entry only the manager field can (the
 * other fields are strings, and fieldsV1 holds empty objects alone).
 */
export function managedFieldsCut(keepManager?: string): (text: string) => string {
  const mark = keepManager === undefined ? undefined : `"manager":${JSON.stringify(keepManager)}`;
  return (text) => {
    let at = nextKey(text, 0);
    if (at < 0) return text;
    let out = '';
    let from = 0;
    while (at >= 0) {
      const open = at + KEY.length - 1;
      const array = elements(text, open);
      if (!array) return text;
      out += text.slice(from, open + 1);
      let kept = 0;
      if (mark !== undefined) {
        for (let k = 0; k < array.ranges.length; k += 2) {
          const entry = text.slice(array.ranges[k], array.ranges[k + 1]);
          if (entry.includes(mark)) out += (kept++ > 0 ? ',' : '') + entry;
        }
      }
      out += ']';
      from = array.end;
      at = nextKey(text, from);
    }
    return out + text.slice(from);
  };
}

/** The index of the next `"managedFields":[` that is a key, or -1. */
function nextKey(text: string, from: number): number {
  let at = text.indexOf(KEY, from);
  while (at >= 0) {
    const before = at > 0 ? text.charCodeAt(at - 1) : -1;
    if (before === OPEN_BRACE || before === COMMA) return at;
    at = text.indexOf(KEY, at + 1);
  }
  return -1;
}

/**
 * From the `[` at `open`: the [start, end) offsets of the array's object elements, in pairs,
 * and the offset after its `]`; undefined when the text ends first.
 */
function elements(text: string, open: number): { ranges: number[]; end: number } | undefined {
  const ranges: number[] = [];
  let depth = 0;
  let start = -1;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      if (i < 0) return undefined;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      if (depth === 2) start = i;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 1 && c === CLOSE_BRACE) ranges.push(start, i + 1);
      else if (depth === 0) return { ranges, end: i + 1 };
    }
  }
  return undefined;
}

/** The offset of the quote that ends the string opened at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  let i = open;
  for (;;) {
    i = text.indexOf('"', i + 1);
    if (i < 0) return -1;
    let backslashes = 0;
    for (let j = i - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes += 1;
    if (backslashes % 2 === 0) return i;
  }
}
