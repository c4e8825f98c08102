import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict, isGone, isNotFound, KubeApiError, narrowError } from '../../../src/k8s/errors.ts';

const status = (code: number, reason: string, message = 'm') => ({ kind: 'Status', status: 'Failure', code, reason, message });
const transport = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('narrowError', () => {
  it.each([
    [
      'KubeApiError 404',
      KubeApiError.fromStatus(status(404, 'NotFound', 'configmaps "x" not found'), 404),
      { status: 404, reason: 'NotFound', message: 'configmaps "x" not found', retryable: false },
    ],
    ['KubeApiError 409', KubeApiError.fromStatus(status(409, 'Conflict'), 409), { status: 409, reason: 'Conflict', retryable: true }],
    [
      'KubeApiError 410 in a watch',
      KubeApiError.fromStatus(status(410, 'Expired', 'too old resource version'), 500),
      { status: 410, reason: 'Expired', retryable: false },
    ],
    ['KubeApiError 403', KubeApiError.fromStatus(status(403, 'Forbidden'), 403), { status: 403, reason: 'Forbidden', retryable: false }],
    ['KubeApiError 429', KubeApiError.fromStatus(status(429, 'TooManyRequests'), 429), { status: 429, retryable: true }],
    ['KubeApiError 503 without a Status', new KubeApiError({ status: 503, message: 'upstream down' }), { status: 503, reason: undefined, retryable: true }],
    [
      'ApiException with a JSON string body',
      new ApiException(409, 'Conflict', JSON.stringify(status(409, 'AlreadyExists', 'exists')), {}),
      { status: 409, reason: 'AlreadyExists', message: 'exists', retryable: true },
    ],
    [
      'ApiException with a parsed body',
      new ApiException(422, 'Invalid', status(422, 'Invalid', 'spec.x: Required value'), {}),
      { status: 422, reason: 'Invalid', message: 'spec.x: Required value', retryable: false },
    ],
    ['ApiException 500 with a plain body', new ApiException(500, 'boom', 'Internal Server Error', {}), { status: 500, reason: undefined, retryable: true }],
    ['connection reset', transport('ECONNRESET', 'read ECONNRESET'), { status: undefined, reason: 'ECONNRESET', retryable: true }],
    ['connection refused', transport('ECONNREFUSED'), { status: undefined, reason: 'ECONNREFUSED', retryable: true }],
    ['a timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), { status: undefined, reason: 'TimeoutError', retryable: true }],
    ['socket hang up', new Error('socket hang up'), { status: undefined, retryable: true }],
    ['a reset wrapped as a cause', new Error('fetch failed', { cause: transport('ECONNRESET') }), { status: undefined, reason: 'ECONNRESET', retryable: true }],
    ['a programming error', new TypeError('x is not a function'), { status: undefined, reason: undefined, retryable: false }],
    ['a thrown string', 'nope', { status: undefined, message: 'nope', retryable: false }],
  ])('%s', (_name, err, expected) => {
    expect(narrowError(err)).toMatchObject(expected);
  });

  it('answers the usual questions', () => {
    const exists = new ApiException(409, 'x', status(409, 'AlreadyExists'), {});
    const conflict = KubeApiError.fromStatus(status(409, 'Conflict'), 409);
    expect([isConflict(exists), isAlreadyExists(exists), isAlreadyExists(conflict)]).toEqual([true, true, false]);
    expect(isNotFound(new ApiException(404, 'x', '', {}))).toBe(true);
    expect(isGone(KubeApiError.fromStatus(status(410, 'Gone'), 200))).toBe(true);
    expect(isNotFound(new Error('404'))).toBe(false);
  });

  it('names the request in the message', () => {
    const err = KubeApiError.fromStatus(status(403, 'Forbidden', 'secrets is forbidden'), 403, { method: 'GET', path: '/api/v1/secrets' });
    expect(err.message).toBe('GET /api/v1/secrets: 403 Forbidden: secrets is forbidden');
  });
});
