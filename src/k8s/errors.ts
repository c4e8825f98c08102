/**
 * One view of every failure a Kubernetes call can end in: the generated client's
 * ApiException, this package's KubeApiError, and transport errors (reset, refused,
 * timed out). Callers branch on `status`, `reason` and `retryable`, never on messages.
 */
import { ApiException } from '@kubernetes/client-node';

/** A metav1.Status as the API server sends it with an error. */
export interface Status {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; retryAfterSeconds?: number };
}

/** An error response from the API server (status code >= 400, or an ERROR watch event). */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: Status | undefined;
  constructor(init: { status: number; reason?: string; message: string; body?: Status; method?: string; path?: string }) {
    const where = init.method && init.path ? `${init.method} ${init.path}: ` : '';
    super(`${where}${init.status}${init.reason ? ` ${init.reason}` : ''}: ${init.message}`);
    this.name = 'KubeApiError';
    this.status = init.status;
    this.reason = init.reason;
    this.body = init.body;
  }

  static fromStatus(status: Status, fallbackCode: number, where: { method?: string; path?: string } = {}): KubeApiError {
    return new KubeApiError({
      status: typeof status.code === 'number' && status.code > 0 ? status.code : fallbackCode,
      reason: status.reason || undefined,
      message: status.message || 'no message',
      body: status,
      ...where,
    });
  }
}

export interface NarrowedError {
  /** HTTP status; undefined when no response arrived (connection refused, reset, timeout). */
  status: number | undefined;
  /** metav1.StatusReason (NotFound, Conflict, Expired, Forbidden, ...) or a transport error code. */
  reason: string | undefined;
  message: string;
  /** Whether the same request, sent again later, may well succeed. */
  retryable: boolean;
}

const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504]);
const TRANSPORT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function parseStatus(body: unknown): Status | undefined {
  if (typeof body === 'string') {
    try {
      return parseStatus(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  if (body && typeof body === 'object' && ('reason' in body || 'code' in body || 'message' in body)) return body as Status;
  return undefined;
}

function transportCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return err.name;
  if (err.cause instanceof Error) return transportCode(err.cause);
  return undefined;
}

export function narrowError(err: unknown): NarrowedError {
  if (err instanceof KubeApiError) {
    return { status: err.status, reason: err.reason, message: err.body?.message ?? err.message, retryable: RETRYABLE_STATUS.has(err.status) };
  }
  if (err instanceof ApiException) {
    const status = parseStatus(err.body);
    return {
      status: err.code,
      reason: status?.reason || undefined,
      message: status?.message ?? `HTTP ${err.code}`,
      retryable: RETRYABLE_STATUS.has(err.code),
    };
  }
  if (err instanceof Error) {
    const code = transportCode(err);
    const transport = code !== undefined && (TRANSPORT_CODES.has(code) || code === 'TimeoutError' || err.message === 'socket hang up');
    return { status: undefined, reason: code, message: err.message, retryable: transport || err.message === 'socket hang up' };
  }
  return { status: undefined, reason: undefined, message: String(err), retryable: false };
}

export const isNotFound = (err: unknown): boolean => narrowError(err).status === 404;
export const isConflict = (err: unknown): boolean => narrowError(err).status === 409;
export const isAlreadyExists = (err: unknown): boolean => {
  const n = narrowError(err);
  return n.status === 409 && n.reason === 'AlreadyExists';
};
/** 410 Gone: the resourceVersion asked for has been compacted away; relist. */
export const isGone = (err: unknown): boolean => narrowError(err).status === 410;
