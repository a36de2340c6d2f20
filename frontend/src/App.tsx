// The application shell: key gate, header with navigation (the approvals inbox's link with a
// badge of the requests the key may decide, the alerts' with one of the open alerts, the
// agents' organisation chart), connection indicator and sign out, the event stream's lifetime,
// and the hash-routed views.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiClient } from './api/client';
import { pageKey, parseHash, useHash, type Route } from './app/route';
import { ServicesContext, type Services } from './app/services';
import { clearKey, loadKey, saveKey } from './app/session';
import { AlertsNavLink } from './components/AlertsNavLink';
import { ApprovalsNavLink } from './components/ApprovalsNavLink';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { EventBus } from './live/bus';
import { StreamClient, streamUrl, type ConnectionState } from './live/stream';
import { Alerts } from './views/Alerts';
import { Approvals } from './views/Approvals';
import { Hierarchy } from './views/Hierarchy';
import { JobDetail } from './views/JobDetail';
import { Jobs } from './views/Jobs';
import { KeyPrompt } from './views/KeyPrompt';
import { Org } from './views/Org';
import { Resources } from './views/Resources';
import { Submit } from './views/Submit';

/** The inbox's link carries a badge: the requests the key may decide now. */
const APPROVALS_HREF = '#/approvals';
/** The alerts' link carries a badge: the open alerts. */
const ALERTS_HREF = '#/alerts';

const NAV: readonly { href: string; text: string; matches: (r: Route) => boolean }[] = [
  { href: '#/', text: 'Hierarchy', matches: (r) => r.name === 'hierarchy' },
  { href: '#/jobs', text: 'Jobs', matches: (r) => r.name === 'jobs' || r.name === 'job' },
  { href: APPROVALS_HREF, text: 'Approvals', matches: (r) => r.name === 'approvals' },
  { href: ALERTS_HREF, text: 'Alerts', matches: (r) => r.name === 'alerts' },
  { href: '#/org', text: 'Organisation', matches: (r) => r.name === 'org' },
  { href: '#/submit', text: 'Submit', matches: (r) => r.name === 'submit' },
  { href: '#/resources', text: 'Resources', matches: (r) => r.name === 'resources' },
];

const TITLES: Record<Route['name'], string> = {
  hierarchy: 'Hierarchy',
  jobs: 'Jobs',
  job: 'Job',
  approvals: 'Approvals',
  alerts: 'Alerts',
  org: 'Organisation',
  submit: 'Submit',
  resources: 'Resources',
  notfound: 'Not found',
};

function View({ route }: { route: Route }) {
  switch (route.name) {
    case 'hierarchy':
      return <Hierarchy key={route.jobId ?? ''} jobId={route.jobId} />;
    case 'jobs':
      return <Jobs />;
    case 'job':
      return <JobDetail key={route.id} id={route.id} view={route.view ?? 'tree'} node={route.node} />;
    case 'approvals':
      return <Approvals show={route.show ?? 'mine'} />;
    case 'alerts':
      return <Alerts show={route.show ?? 'open'} />;
    case 'org':
      return <Org agent={route.agent} />;
    case 'submit':
      return <Submit />;
    case 'resources':
      return <Resources />;
    default:
      return (
        <>
          <h1 tabIndex={-1}>Not found</h1>
          <p>
            Nothing at {route.path}. Go to the <a href="#/">hierarchy</a>.
          </p>
        </>
      );
  }
}

function Header({ route, state, onSignOut }: { route: Route | null; state: ConnectionState; onSignOut?: () => void }) {
  return (
    <header className="app-header">
      <a className="brand" href="#/">
        cadre
      </a>
      {route && (
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                {n.href === APPROVALS_HREF ? (
                  <ApprovalsNavLink href={n.href} current={n.matches(route)} />
                ) : n.href === ALERTS_HREF ? (
                  <AlertsNavLink href={n.href} current={n.matches(route)} />
                ) : (
                  <a href={n.href} aria-current={n.matches(route) ? 'page' : undefined}>
                    {n.text}
                  </a>
                )}
              </li>
            ))}
          </ul>
        </nav>
      )}
      <div className="header-end">
        <ConnectionIndicator state={state} />
        {onSignOut && (
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </div>
    </header>
  );
}

function Connected({ apiKey, onSignOut, onRefused }: { apiKey: string; onSignOut: () => void; onRefused: () => void }) {
  const hash = useHash();
  const route = useMemo(() => parseHash(hash), [hash]);
  const [state, setState] = useState<ConnectionState>('offline');
  const services = useMemo<Services>(
    () => ({ api: new ApiClient({ key: apiKey, onUnauthorized: onRefused }), bus: new EventBus() }),
    [apiKey, onRefused],
  );
  const main = useRef<HTMLElement | null>(null);
  const firstRoute = useRef(true);

  useEffect(() => {
    const stream = new StreamClient({
      url: (since) => streamUrl(apiKey, since),
      onEvent: (frame) => services.bus.emit(frame),
      onState: setState,
      onResync: () => services.bus.resync(),
    });
    stream.start();
    return () => stream.stop();
  }, [apiKey, services]);

  // Focus moves to the heading when the page changes, not when a page switches how it shows
  // its content (a job's tree, overview or timeline): the switch keeps its own focus.
  const page = pageKey(route);
  useEffect(() => {
    document.title = `${TITLES[route.name]} · cadre`;
  }, [route.name]);
  useEffect(() => {
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [page]);

  return (
    <ServicesContext.Provider value={services}>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); main.current?.querySelector<HTMLElement>('h1')?.focus(); }}>
        Skip to content
      </a>
      <Header route={route} state={state} onSignOut={onSignOut} />
      <main id="main" ref={main}>
        <View route={route} />
      </main>
    </ServicesContext.Provider>
  );
}

export function App() {
  const [key, setKey] = useState<string | null>(() => loadKey());
  const [reason, setReason] = useState<string | null>(null);

  const connect = useCallback((k: string) => {
    saveKey(k);
    setReason(null);
    setKey(k);
  }, []);
  const signOut = useCallback(() => {
    clearKey();
    setReason(null);
    setKey(null);
  }, []);
  const refused = useCallback(() => {
    clearKey();
    setReason('The server refused the key (401). Enter a valid API key.');
    setKey(null);
  }, []);

  if (!key) {
    return (
      <>
        <Header route={null} state="offline" />
        <main id="main">
          <KeyPrompt onConnect={connect} reason={reason} />
        </main>
      </>
    );
  }
  return <Connected apiKey={key} onSignOut={signOut} onRefused={refused} />;
}
