// Re-renders on every applied batch that changed a node of the model (for views that draw the
// whole tree at once, such as the overview and the timeline); returns the change version.
import { useCallback, useSyncExternalStore } from 'react';
import type { TreeModel } from './model';

export function useModelChanges(model: TreeModel): number {
  const subscribe = useCallback((cb: () => void) => model.subscribeChanges(cb), [model]);
  return useSyncExternalStore(subscribe, () => model.changeVersion);
}
