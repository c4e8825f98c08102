/**
 * The filter in front of a secure server's routes: a request without a bearer token, or with
 * one the API server does not authenticate, gets 401; one whose identity may not do what the
 * route needs gets 403; every other request reaches the route. The answers' wording follows
 * the API server's, so that a Prometheus target's lastError reads as kubectl's would.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Handler } from './http.ts';
import { describeAccess, type Access, type Reviewer } from './reviews.ts';

const TEXT = { 'Content-Type': 'text/plain; charset=utf-8' };

/** The token of an `Authorization: Bearer <token>` header; undefined for any other. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer +([^\s]+) *$/i.exec(header);
  return match?.[1];
}

function deny(res: ServerResponse, status: 401 | 403 | 500, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...TEXT, ...headers }).end(`${text}\n`);
}

export interface GuardOptions {
  reviewer: Reviewer;
  /** What a caller must be allowed, every one of them, to get the route. */
  access: readonly Access[];
  logger: Logger;
  /** Names the server in log lines. */
  server: string;
}

/** `handler` behind authentication and authorization by the API server. */
export function guard(handler: Handler, options: GuardOptions): Handler {
  const { reviewer, access, logger } = options;
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const token = bearerToken(req);
    if (token === undefined) {
      deny(res, 401, 'Unauthorized: send a bearer token, Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer realm="backlot"' });
      return;
    }
    let user;
    try {
      user = await reviewer.authenticate(token);
    } catch (err) {
      logger.error({ server: options.server, path, err: (err as Error).message }, 'token review failed');
      deny(res, 500, 'Internal Server Error: the token could not be reviewed by the Kubernetes API server');
      return;
    }
    if (!user) {
      deny(res, 401, 'Unauthorized: the Kubernetes API server does not authenticate this token', {
        'WWW-Authenticate': 'Bearer realm="backlot", error="invalid_token"',
      });
      return;
    }
    let allowed: boolean[];
    try {
      allowed = await Promise.all(access.map((a) => reviewer.authorize(user, a)));
    } catch (err) {
      logger.error({ server: options.server, path, user: user.username, err: (err as Error).message }, 'access review failed');
      deny(res, 500, `Internal Server Error: the access of user "${user.username}" could not be reviewed by the Kubernetes API server`);
      return;
    }
    const refused = access.filter((_, i) => !allowed[i]);
    if (refused.length > 0) {
      const what = describeAccess(refused);
      logger.debug({ server: options.server, path, user: user.username, refused: what }, 'request forbidden');
      deny(res, 403, `Forbidden: User "${user.username}" cannot ${what}`);
      return;
    }
    await handler(req, res);
  };
}
