import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shebangNodeOptions } from '../../../src/envtest/operator-process.ts';

describe('shebangNodeOptions', () => {
  it.each([
    ['#!/usr/bin/env -S node --max-semi-space-size=16\n/** doc */', ['--max-semi-space-size=16']],
    ['#!/usr/bin/env -S node --max-semi-space-size=16 --max-old-space-size=256', ['--max-semi-space-size=16', '--max-old-space-size=256']],
    ['#!/usr/bin/env node\nconsole.log(1)', []],
    ['// no shebang', []],
    ['#!/bin/sh\necho', []],
  ])('%j gives %j', (head, expected) => {
    expect(shebangNodeOptions(head)).toEqual(expected);
  });

  it("reads the executable's own first line: the options the image runs it with", async () => {
    const head = await readFile(join(import.meta.dirname, '../../../src/cli/main.ts'), 'utf8');
    expect(shebangNodeOptions(head)).toContain('--max-semi-space-size=16');
  });
});
