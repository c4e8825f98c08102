import { describe, expect, it } from '@jest/globals';
import { parseBindAddress } from '../../../src/util/bind-address.ts';

describe('parseBindAddress', () => {
  it.each([
    [':8080', { host: undefined, port: 8080 }],
    ['0.0.0.0:8080', { host: '0.0.0.0', port: 8080 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['0', undefined],
    ['8080', 'invalid'],
    [':70000', 'invalid'],
    ['host:', 'invalid'],
  ])('%s', (text, expected) => {
    expect(parseBindAddress(text)).toEqual(expected);
  });
});
