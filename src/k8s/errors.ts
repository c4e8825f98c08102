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

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

/** Errors from other realms (a DOMException, a test's vm context) fail `instanceof Error`; look at the shape. */
function isErrorLike(err: unknown): err is ErrorLike & { message: string } {
  return typeof err === 'object' && err !== null && typeof (err as ErrorLike).message === 'string';
}

/** The transport error codes along the cause chain, outermost first. */
function transportCodes(err: unknown, depth = 0): string[] {
  if (!isErrorLike(err) || depth > 5) return [];
  const own = typeof err.code === 'string' ? [err.code] : err.name === 'TimeoutError' || err.name === 'AbortError' ? [err.name] : [];
  return [...own, ...transportCodes(err.cause, depth + 1)];
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
  if (isErrorLike(err)) {
    const codes = transportCodes(err);
    // A request aborted by its deadline is a timeout; one aborted by its caller is not worth retrying.
    const retryable = codes.some((c) => TRANSPORT_CODES.has(c) || c === 'TimeoutError') || err.message === 'socket hang up';
    const reason = codes.find((c) => TRANSPORT_CODES.has(c) || c === 'TimeoutError') ?? codes[0];
    return { status: undefined, reason, message: err.message, retryable };
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
