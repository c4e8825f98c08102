import type { ControlPlane } from '../../src/envtest/controlplane.ts';
import { PLANE_KEY } from './env.ts';

export default async function globalTeardown(): Promise<void> {
  const plane = (globalThis as Record<string, unknown>)[PLANE_KEY] as ControlPlane | undefined;
  await plane?.stop();
}
