/**
 * Generations Backlot moved itself. Changing a Deployment's annotations bumps its
 * metadata.generation (the annotations are copied to its ReplicaSets), so every ownership
 * write would make the Deployment look unobserved until its controller catches up, and every
 * entity claiming it would flap to not-ready and back: two status writes where one is due.
 *
 * The ownership reconciler records each bump its own apply caused (the apply touches only
 * metadata, so the spec the controller observed is unchanged); readiness then reads such a
 * Deployment as observed. Anything else moving the generation again, or the controller
 * catching up, ends the record. The records live as long as the process: after a restart the
 * controllers have long since caught up.
 */
import type { KubeObject } from '../k8s/object.ts';

interface Bump {
  /** The generation before Backlot's write. */
  from: number;
  /** The generation Backlot's write produced. */
  to: number;
}

type WithStatus = KubeObject & { status?: { observedGeneration?: number } };

export class OwnGenerations {
  private readonly bumps = new Map<string, Bump>();
  private changes = 0;

  /**
   * Moves whenever a record is made or ended by a write (expect, confirm, forget), so that what
   * is derived from readiness can be kept until then. The ending of a record inside
   * effective() does not move it: that happens only once the record no longer changes what
   * effective() returns.
   */
  get version(): number {
    return this.changes;
  }

  /**
   * Before an apply that changes annotations: the write will move the generation from the
   * cached one by one. Recorded before the write, because the watch event of the bumped
   * object can reach a reconcile before the write's answer reaches this process.
   */
  expect(before: KubeObject): void {
    const uid = before.metadata?.uid;
    const from = before.metadata?.generation;
    if (uid && from !== undefined) {
      this.bumps.set(uid, { from, to: from + 1 });
      this.changes += 1;
    }
  }

  /** After the apply: keeps the record only if the write did move the generation as expected. */
  confirm(before: KubeObject, after: KubeObject): void {
    const uid = before.metadata?.uid;
    const from = before.metadata?.generation;
    const to = after.metadata?.generation;
    if (!uid) return;
    if (from === undefined || to !== from + 1) this.bumps.delete(uid);
    else this.bumps.set(uid, { from, to });
    this.changes += 1;
  }

  /**
   * The object as its controller would report it had it seen Backlot's annotation-only
   * bump: status.observedGeneration moved forward when it had observed the generation
   * before the bump. Any other object is returned as it is.
   */
  effective<T extends WithStatus>(obj: T): T {
    const uid = obj.metadata?.uid;
    const bump = uid ? this.bumps.get(uid) : undefined;
    if (!uid || !bump) return obj;
    const generation = obj.metadata?.generation;
    const observed = obj.status?.observedGeneration;
    // A copy from before Backlot's write (the old side of an update being compared): nothing
    // to adjust, and no reason to end the record.
    if (generation === undefined || generation < bump.to) return obj;
    if (generation > bump.to || (observed !== undefined && observed >= bump.to)) {
      // Caught up, or changed again since: the record has done its work.
      this.bumps.delete(uid);
      return obj;
    }
    if (observed === undefined || observed < bump.from) return obj;
    return { ...obj, status: { ...obj.status, observedGeneration: bump.to } };
  }

  forget(obj: KubeObject): void {
    if (obj.metadata?.uid && this.bumps.delete(obj.metadata.uid)) this.changes += 1;
  }

  get size(): number {
    return this.bumps.size;
  }
}
