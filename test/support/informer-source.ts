/**
 * A controller source of one informer's object keys (adds, updates, deletes; the cache
 * replayed on registration): what the runtime tests drive a plain controller with. The
 * operator's own controllers take their keys from the catalog's triggers instead.
 */
import { objectKey, type KubeObject } from '../../src/k8s/object.ts';
import type { Source } from '../../src/runtime/controller.ts';
import type { Informer } from '../../src/runtime/informer.ts';

export function informerSource<T extends KubeObject>(informer: Informer<T>): Source {
  return {
    name: informer.name,
    synced: () => informer.whenSynced(),
    register(enqueue) {
      const push = (obj: T) => enqueue(objectKey(obj));
      return informer.addEventHandler(
        {
          onAdd: push,
          onUpdate: (oldObj, newObj) => {
            if (oldObj.metadata?.resourceVersion !== newObj.metadata?.resourceVersion) push(newObj);
          },
          onDelete: push,
        },
        { replay: true },
      );
    },
  };
}
