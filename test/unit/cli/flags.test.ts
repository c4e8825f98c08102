import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../../../src/cli/command.ts';
import { commandHelp, flagTable, intFlag, outputFlag, outputFlagSpec, parseFlags, type FlagSpec } from '../../../src/cli/flags.ts';
import { RUN_FLAGS } from '../../../src/cli/run-config.ts';
import { CLUSTER_FLAGS } from '../../../src/cli/cluster.ts';
import { formatTable } from '../../../src/cli/output.ts';

const SPECS: FlagSpec[] = [...CLUSTER_FLAGS, outputFlagSpec('table or json'), { name: 'depth', type: 'string', value: 'N', help: 'how deep' }];
const parse = (argv: string[], options: { positionals?: boolean } = { positionals: true }) => parseFlags(argv, SPECS, { command: 'test', ...options });

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
    [['--all-namespaces=0'], {}, { 'all-namespaces': false }, []],
    [['-A=true'], {}, { 'all-namespaces': true }, []],
    [['--depth', '-1'], { depth: '-1' }, {}, []],
  ])('%j', (argv, strings, booleans, positionals) => {
    const parsed = parse(argv);
    expect(Object.fromEntries(parsed.strings)).toEqual(strings);
    expect(Object.fromEntries(parsed.booleans)).toEqual(booleans);
    expect(parsed.positionals).toEqual(positionals);
    expect(parsed.help).toBe(false);
  });

  it.each([['-h'], ['--help'], ['-n', 'x', '--help'], ['--help=true']])('%j asks for help', (...argv) => {
    expect(parse(argv).help).toBe(true);
  });

  it.each([
    [['--nope'], 'unknown flag "--nope" (known flags: --kubeconfig, --context, --namespace, --all-namespaces, --output, --depth)'],
    [['-x'], 'unknown flag "-x"'],
    [['-Ax'], 'unknown flag "-Ax"'],
    [['-n'], 'flag -n needs a value: --namespace=NS'],
    [['--context'], 'flag --context needs a value: --context=NAME'],
    [['-A=maybe'], '--all-namespaces: "maybe" is not a boolean; expected --all-namespaces, --all-namespaces=true or --all-namespaces=false'],
    [['-n', 'a', '--namespace=b'], 'flag --namespace given more than once'],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });

  it('refuses arguments where a command takes flags only', () => {
    expect(() => parse(['-A', 'extra'], { positionals: false })).toThrow('unexpected argument "extra": test takes flags only');
  });

  it("lays out every command's help alike: flags aligned, help wrapped, -h last", () => {
    const help = commandHelp({
      usage: 'backlot test [flags]',
      description: 'Tests.',
      examples: '  backlot test',
      flags: [SPECS[4]!, SPECS[5]!],
      moreFlags: [{ heading: 'Cluster flags', flags: CLUSTER_FLAGS }],
    });
    expect(help).toBe(
      [
        'Usage: backlot test [flags]',
        '',
        'Tests.',
        '',
        'Examples:',
        '  backlot test',
        '',
        'Flags:',
        '  -o, --output FORMAT     table or json',
        '      --depth N           how deep',
        '  -h, --help              show this help',
        '',
        'Cluster flags:',
        '      --kubeconfig PATH   the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)',
        '      --context NAME      the kubeconfig context to use (default: the current context)',
        "  -n, --namespace NS      the namespace to read (default: the context's namespace, else default)",
        '  -A, --all-namespaces    read every namespace',
        '',
      ].join('\n'),
    );
    for (const line of flagTable(RUN_FLAGS).split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('checks -o and whole numbers', () => {
    expect(outputFlag(parse(['-o', 'yaml']), ['table', 'json', 'yaml'], 'table')).toBe('yaml');
    expect(outputFlag(parse([]), ['table', 'json'], 'table')).toBe('table');
    expect(() => outputFlag(parse(['-o', 'wide']), ['table', 'json'], 'table')).toThrow('unsupported output format "wide": use one of table, json');
    expect(intFlag(parse(['--depth', '2']), 'depth', 0)).toBe(2);
    expect(() => intFlag(parse(['--depth', '-1']), 'depth', 0)).toThrow('flag --depth takes a whole number of at least 0, not "-1"');
    expect(() => intFlag(parse(['--depth=1.5']), 'depth', 0)).toThrow(UsageError);
  });
});

describe('formatTable', () => {
  it('aligns columns three spaces apart like kubectl, with <none> for empty cells', () => {
    expect(
      formatTable(
        ['NAMESPACE', 'KIND', 'NAME'],
        [
          ['shop', 'Deployment', 'promo-banner'],
          ['platform-x', 'CronJob', ''],
        ],
      ),
    ).toBe(['NAMESPACE    KIND         NAME', 'shop         Deployment   promo-banner', 'platform-x   CronJob      <none>', ''].join('\n'));
  });
});
