import { describe, expect, it } from '@jest/globals';
import { OwnGenerations } from '../../../src/reconcilers/generations.ts';

const deploy = (generation: number, observedGeneration?: number) => ({
  metadata: { uid: 'u1', name: 'd', generation },
  ...(observedGeneration === undefined ? {} : { status: { observedGeneration, readyReplicas: 3 } }),
});

describe('OwnGenerations', () => {
  it("reads a Deployment whose generation only Backlot's apply moved as observed, from before the write's answer", () => {
    const g = new OwnGenerations();
    g.expect(deploy(4, 4));
    // The watch event of the bumped Deployment can arrive before the apply returns.
    expect(g.effective(deploy(5, 4)).status).toEqual({ observedGeneration: 5, readyReplicas: 3 });
    g.confirm(deploy(4, 4), deploy(5));
    expect(g.effective(deploy(5, 4)).status?.observedGeneration).toBe(5);
  });

  it('leaves a Deployment that was already behind as it is', () => {
    const g = new OwnGenerations();
    g.expect(deploy(4, 3));
    g.confirm(deploy(4, 3), deploy(5));
    expect(g.effective(deploy(5, 3)).status?.observedGeneration).toBe(3);
  });

  it('forgets once the controller catches up or the spec moves again', () => {
    const g = new OwnGenerations();
    g.expect(deploy(4, 4));
    g.confirm(deploy(4, 4), deploy(5));
    expect(g.effective(deploy(5, 5)).status?.observedGeneration).toBe(5);
    expect(g.size).toBe(0);
    g.expect(deploy(5, 5));
    g.confirm(deploy(5, 5), deploy(6));
    expect(g.effective(deploy(7, 5)).status?.observedGeneration).toBe(5);
    expect(g.size).toBe(0);
  });

  it('drops the record when the write did not move the generation by exactly one', () => {
    const g = new OwnGenerations();
    g.expect(deploy(4, 4));
    g.confirm(deploy(4, 4), deploy(4));
    expect(g.size).toBe(0);
    g.expect(deploy(4, 4));
    g.confirm(deploy(4, 4), deploy(6));
    expect(g.size).toBe(0);
    expect(g.effective(deploy(6, 4)).status?.observedGeneration).toBe(4);
  });

  it('keeps the record when asked about the copy from before the write (the old side of an update)', () => {
    const g = new OwnGenerations();
    g.expect(deploy(4, 4));
    // Comparing the update 4 -> 5 reads the old copy first: it is as it was, and the record stays.
    expect(g.effective(deploy(4, 4)).status?.observedGeneration).toBe(4);
    expect(g.size).toBe(1);
    expect(g.effective(deploy(5, 4)).status?.observedGeneration).toBe(5);
  });
});
