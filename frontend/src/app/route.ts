// Hash routing: `#/` hierarchy (`#/?job=<id>` for one job), `#/jobs`, `#/jobs/<id>`,
// `#/submit`, `#/resources`.
import { useSyncExternalStore } from 'react';

export type Route =
  | { name: 'hierarchy'; jobId?: string }
  | { name: 'jobs' }
  | { name: 'job'; id: string }
  | { name: 'submit' }
  | { name: 'resources' }
  | { name: 'notfound'; path: string };

export function parseHash(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) {
    const jobId = new URLSearchParams(query).get('job');
    return jobId ? { name: 'hierarchy', jobId } : { name: 'hierarchy' };
  }
  if (parts[0] === 'jobs' && parts.length === 1) return { name: 'jobs' };
  if (parts[0] === 'jobs' && parts.length === 2) return { name: 'job', id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'submit' && parts.length === 1) return { name: 'submit' };
  if (parts[0] === 'resources' && parts.length === 1) return { name: 'resources' };
  return { name: 'notfound', path };
}

export function navigate(path: string): void {
  window.location.hash = path;
}

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

/** The current hash (re-rendering on change). */
export function useHash(): string {
  return useSyncExternalStore(subscribe, () => window.location.hash);
}
