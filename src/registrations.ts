/**
 * What `backlot run` runs: each entry plugs one part of the product into the runtime (its
 * informers and controllers). This list is the extension point; add a registration here.
 */
import type { ControllerRegistration } from './runtime/manager.ts';

export const registrations: readonly ControllerRegistration[] = [];
