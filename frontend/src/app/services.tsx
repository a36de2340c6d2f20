// The app-wide services handed to views through React context: the REST client and the
// bus of stream events.
import { createContext, useContext, useEffect, useLayoutEffect, useRef } from 'react';
import type { ApiClient } from '../api/client';
import type { EventBus } from '../live/bus';
import type { EventFrame } from '../live/events';

export interface Services {
  api: ApiClient;
  bus: EventBus;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside ServicesContext');
  return services;
}

/**
 * Calls the latest `listener` for every stream event while the component is mounted. The
 * listener is swapped in during the commit (a layout effect), not after paint: a frame that
 * arrives once the screen shows new state must be handled with that state, and a passive
 * effect can run well after the commit on a loaded machine (a Jobs view test saw a frame
 * handled with the list from before its first page).
 */
export function useStreamEvents(listener: (frame: EventFrame) => void): void {
  const { bus } = useServices();
  const latest = useRef(listener);
  useLayoutEffect(() => {
    latest.current = listener;
  });
  useEffect(() => bus.subscribe((frame) => latest.current(frame)), [bus]);
}
