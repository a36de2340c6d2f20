// The app-wide services handed to views through React context: the REST client and the
// bus of stream events.
import { createContext, useContext, useEffect, useRef } from 'react';
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

/** Calls the latest `listener` for every stream event while the component is mounted. */
export function useStreamEvents(listener: (frame: EventFrame) => void): void {
  const { bus } = useServices();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => bus.subscribe((frame) => latest.current(frame)), [bus]);
}
