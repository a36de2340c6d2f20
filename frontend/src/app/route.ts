// Hash routing: `#/` hierarchy (`#/?job=<id>` for one job), `#/jobs`, `#/jobs/<id>`
// (`?view=overview|timeline|dead-letters` for the job's other views, `?node=<id>` to open a node's panel),
// `#/approvals` (`?show=pending|decided` for more than what the key may decide now),
// `#/alerts` (`?show=resolved` for the resolved ones), `#/org` (`?agent=<name>` to open an
// agent's panel), `#/submit`, `#/resources`.
import { useSyncExternalStore } from 'react';

/** The ways the Job detail view shows a job's nodes, and its dead letters. */
export const JOB_VIEWS = ['tree', 'overview', 'timeline', 'dead-letters'] as const;
export type JobViewName = (typeof JOB_VIEWS)[number];

/** What the approvals inbox lists: what the key may decide now, every pending request, or the decided ones. */
export const APPROVAL_LISTS = ['mine', 'pending', 'decided'] as const;
export type ApprovalListName = (typeof APPROVAL_LISTS)[number];

/** What the alerts view lists: the open alerts, or the resolved ones. */
export const ALERT_LISTS = ['open', 'resolved'] as const;
export type AlertListName = (typeof ALERT_LISTS)[number];

export type Route =
  | { name: 'hierarchy'; jobId?: string }
  | { name: 'jobs' }
  | { name: 'job'; id: string; view?: JobViewName; node?: string }
  | { name: 'approvals'; show?: ApprovalListName }
  | { name: 'alerts'; show?: AlertListName }
  | { name: 'org'; agent?: string }
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
  if (parts[0] === 'jobs' && parts.length === 2) return jobRoute(decodeURIComponent(parts[1]), query);
  if (parts[0] === 'approvals' && parts.length === 1) return approvalsRoute(query);
  if (parts[0] === 'alerts' && parts.length === 1) return alertsRoute(query);
  if (parts[0] === 'org' && parts.length === 1) return orgRoute(query);
  if (parts[0] === 'submit' && parts.length === 1) return { name: 'submit' };
  if (parts[0] === 'resources' && parts.length === 1) return { name: 'resources' };
  return { name: 'notfound', path };
}

function isJobView(value: string | null): value is JobViewName {
  return (JOB_VIEWS as readonly (string | null)[]).includes(value);
}

function jobRoute(id: string, query: string): Route {
  const params = new URLSearchParams(query);
  const view = params.get('view');
  const node = params.get('node');
  const route: Route = isJobView(view) && view !== 'tree' ? { name: 'job', id, view } : { name: 'job', id };
  return node ? { ...route, node } : route;
}

function approvalsRoute(query: string): Route {
  const show = new URLSearchParams(query).get('show');
  const known: readonly (string | null)[] = APPROVAL_LISTS;
  return known.includes(show) && show !== 'mine' ? { name: 'approvals', show: show as ApprovalListName } : { name: 'approvals' };
}

function alertsRoute(query: string): Route {
  return new URLSearchParams(query).get('show') === 'resolved' ? { name: 'alerts', show: 'resolved' } : { name: 'alerts' };
}

function orgRoute(query: string): Route {
  const agent = new URLSearchParams(query).get('agent');
  return agent ? { name: 'org', agent } : { name: 'org' };
}

/** The hash of one job's page showing `view` (the tree when absent). */
export function jobHash(id: string, view: JobViewName = 'tree'): string {
  const path = `/jobs/${encodeURIComponent(id)}`;
  return view === 'tree' ? path : `${path}?view=${view}`;
}

/** The hash of a job's page with one node's panel open. */
export function nodeHash(jobId: string, nodeId: string): string {
  return `${jobHash(jobId)}?node=${encodeURIComponent(nodeId)}`;
}

/** The hash of the approvals inbox listing `show` (what the key may decide when absent). */
export function approvalsHash(show: ApprovalListName = 'mine'): string {
  return show === 'mine' ? '/approvals' : `/approvals?show=${show}`;
}

/** The hash of the alerts view listing `show` (the open alerts when absent). */
export function alertsHash(show: AlertListName = 'open'): string {
  return show === 'open' ? '/alerts' : `/alerts?show=${show}`;
}

/** The hash of the organisation chart, with `agent`'s panel open when given. */
export function orgHash(agent?: string | null): string {
  return agent ? `/org?agent=${encodeURIComponent(agent)}` : '/org';
}

/**
 * The page a route shows, ignoring how it shows it (a job's view switch, the inbox's or the
 * alerts' list, the agent selected in the organisation chart is not a new page).
 */
export function pageKey(route: Route): string {
  if (route.name === 'job') return `job:${route.id}`;
  return route.name === 'approvals' || route.name === 'alerts' || route.name === 'org' ? route.name : JSON.stringify(route);
}

export function navigate(path: string): void {
  window.location.hash = path;
}

/** Shows `path` without adding a history entry (switching how a page is shown). */
export function replaceHash(path: string): void {
  window.location.replace(`#${path}`);
}

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

/** The current hash (re-rendering on change). */
export function useHash(): string {
  return useSyncExternalStore(subscribe, () => window.location.hash);
}
