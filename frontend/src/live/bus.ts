// A tiny publish/subscribe hub that fans stream events (and resync requests) out to views.
import type { EventFrame } from './events';

export type EventListener = (frame: EventFrame) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private readonly resyncListeners = new Set<() => void>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  emit(frame: EventFrame): void {
    for (const l of this.listeners) l(frame);
  }

  resync(): void {
    for (const l of this.resyncListeners) l();
  }
}
