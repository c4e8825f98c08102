import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../../../src/cli/command.ts';
import { intFlag, OUTPUT_FLAG, outputFlag, parseFlags, type FlagSpec } from '../../../src/cli/flags.ts';
import { CLUSTER_FLAGS } from '../../../src/cli/cluster.ts';
import { formatTable } from '../../../src/cli/output.ts';

const SPECS: FlagSpec[] = [...CLUSTER_FLAGS, OUTPUT_FLAG, { name: 'depth', type: 'string' }];

describe('parseFlags', () => {
  it.each([
    [['-n', 'shop'], { namespace: 'shop' }, {}, []],
    [['-nshop'], { namespace: 'shop' }, {}, []],
    [['-n=shop'], { namespace: 'shop' }, {}, []],
    [['--namespace', 'shop'], { namespace: 'shop' }, {}, []],
    [['--namespace=shop'], { namespace: 'shop' }, {}, []],
    [['-A'], {}, { 'all-namespaces': true }, []],
    [['--all-namespaces=false'], {}, { 'all-namespaces': false }, []],
    [['-o', 'json', '-A'], { output: 'json' }, { 'all-namespaces': true }, []],
    [['a.yaml', '-', '--context', 'prod', 'b.yaml'], { context: 'prod' }, {}, ['a.yaml', '-', 'b.yaml']],
    [['--', '-n', 'x'], {}, {}, ['-n', 'x']],
    [['-h'], {}, { help: true }, []],
  ])('%j', (argv, strings, booleans, positionals) => {
    const parsed = parseFlags(argv, SPECS);
    expect(Object.fromEntries(parsed.strings)).toEqual(strings);
    expect(Object.fromEntries(parsed.booleans)).toEqual(booleans);
    expect(parsed.positionals).toEqual(positionals);
  });

  it.each([
    [['--nope'], 'unknown flag "--nope"'],
    [['-x'], 'unknown flag "-x"'],
    [['-Ax'], 'unknown flag "-Ax"'],
    [['-n'], 'flag -n needs a value'],
    [['--context'], 'flag --context needs a value'],
    [['-A=maybe'], 'flag -A takes true or false, not "maybe"'],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parseFlags(argv, SPECS)).toThrow(UsageError);
    expect(() => parseFlags(argv, SPECS)).toThrow(message);
  });

  it('checks -o and whole numbers', () => {
    expect(outputFlag(parseFlags(['-o', 'yaml'], SPECS), ['table', 'json', 'yaml'], 'table')).toBe('yaml');
    expect(outputFlag(parseFlags([], SPECS), ['table', 'json'], 'table')).toBe('table');
    expect(() => outputFlag(parseFlags(['-o', 'wide'], SPECS), ['table', 'json'], 'table')).toThrow('unsupported output format "wide": use one of table, json');
    expect(intFlag(parseFlags(['--depth', '2'], SPECS), 'depth', 0)).toBe(2);
    expect(() => intFlag(parseFlags(['--depth', '-1'], SPECS), 'depth', 0)).toThrow('flag --depth takes a whole number of at least 0, not "-1"');
    expect(() => intFlag(parseFlags(['--depth=1.5'], SPECS), 'depth', 0)).toThrow(UsageError);
  });
});

describe('formatTable', () => {
  it('aligns columns three spaces apart like kubectl, with <none> for empty cells', () => {
    expect(formatTable(['NAMESPACE', 'KIND', 'NAME'], [['shop', 'Deployment', 'promo-banner'], ['platform-x', 'CronJob', '']])).toBe(
      ['NAMESPACE    KIND         NAME', 'shop         Deployment   promo-banner', 'platform-x   CronJob      <none>', ''].join('\n'),
    );
  });
});
