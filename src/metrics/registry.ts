/**
 * The process's one metrics registry. It is private (never prom-client's global default
 * register), created by the composition root and passed to whoever defines metrics, so two
 * operators in one test process never share or clash.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface RegistryOptions {
  /** Node.js process metrics (CPU, memory, event loop lag, GC); on by default. */
  processMetrics?: boolean;
}

export function createRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}
