import { describe, expect, it } from '@jest/globals';
import { parseDuration } from '../../../src/util/duration.ts';

describe('parseDuration', () => {
  it.each([
    ['15s', 15_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2m', 120_000],
    ['15', undefined],
    ['s', undefined],
    ['-1s', undefined],
    ['1d', undefined],
  ])('%s → %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});
