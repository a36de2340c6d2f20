// Test helper: renders a component with real services whose fetch is a scripted mock.
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { vi } from 'vitest';
import { ApiClient } from '../api/client';
import { RateGate } from '../api/rateGate';
import { ServicesContext } from '../app/services';
import { EventBus } from '../live/bus';

/** A scripted answer: `body` sent as JSON, or `text` as is (Markdown unless headers say otherwise). */
export type Handler = (
  method: string,
  url: string,
  body: unknown,
) => { status: number; body?: unknown; text?: string; headers?: Record<string, string> };

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': type, ...headers } });
}

/** A gate that never waits (tests do not sleep). */
export function instantGate(): RateGate {
  return new RateGate(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, () => 0, async () => undefined);
}

export function renderWithServices(ui: ReactElement, handler: Handler) {
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
    const r = handler(init?.method ?? 'GET', url, body);
    if (r.text !== undefined) {
      return new Response(r.text, { status: r.status, headers: { 'content-type': 'text/markdown; charset=utf-8', ...r.headers } });
    }
    return jsonResponse(r.status, r.body, r.headers);
  });
  const api = new ApiClient({ key: 'sk-orch-test-key-0123456789abcdefghij', fetchImpl, gate: instantGate() });
  const bus = new EventBus();
  const utils = render(<ServicesContext.Provider value={{ api, bus }}>{ui}</ServicesContext.Provider>);
  return { ...utils, fetchImpl, bus };
}
