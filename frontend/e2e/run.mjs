// End-to-end test of the dashboard in headless Chromium against the REAL cadre server:
// starts `cadre serve` (fresh data dir, generated key, free port, an `openai` provider named
// `scripted` answered by scripted-llm.mjs in this process, also the [decomposer]'s provider),
// drives the UI through
// the scenarios of the brief (approvals too: a request approved, one rejected, two left
// waiting for the inbox's axe check and screenshots; escalations: one skipped with a result,
// one retried with more memory, one left waiting; alerts: a suite held by its failure rate and
// resumed, another left held; the workforce: three agents, two tasks delegated to one of them,
// watched on the organisation chart; mailboxes: a worker's messages in its panel, one sent from
// there, a dead letter in the job's Dead letters; workspaces: two command workers editing a
// throwaway git repository, their branches and diffs, a merge conflict), runs axe on every view, takes
// screenshots, and always stops the server. Set E2E_BASE_URL (+ E2E_KEY) to test an already running server instead.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import {
  CHILD_DONE,
  CLARIFY_ANSWER,
  CLARIFY_QUESTION,
  DIRECT_ANSWER,
  LEAD_DONE,
  PLAN,
  PROJECT,
  SPAWNED,
  startScriptedLlm,
} from './scripted-llm.mjs';

const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CADRE_BIN = resolve(FRONTEND, process.env.CADRE_BIN ?? '../target/debug/cadre');
const SCREENSHOT_DIR = resolve(FRONTEND, '../target/e2e-screenshots');
const AXE_PATH = join(FRONTEND, 'node_modules/axe-core/axe.min.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 100;
const LIVE_TIMEOUT_MS = 10_000;
const JOB_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const E2E_RATE_PER_SECOND = 1000;
const LOG_TAIL_CHARS = 4000;

// ---- results -----------------------------------------------------------------------------

const results = [];
/** The server's process (group) id while it runs, for clean-up on a signal. */
let serverPid = null;
async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`PASS  ${name}  (${Date.now() - started} ms)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name}  (${Date.now() - started} ms)\n      ${String(err?.stack ?? err).split('\n').join('\n      ')}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** JSON with every object's keys sorted (the server may store a value's keys in another order). */
function canonicalJson(value) {
  const sorted = (v) =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])])) : v;
  return JSON.stringify(sorted(value));
}

// ---- the server --------------------------------------------------------------------------

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * The server's environment for the scripted model provider (see scripted-llm.mjs), which is
 * also the [decomposer]'s: a job with only a request is classified and planned by it.
 */
function scriptedProviderEnv(baseUrl) {
  const p = 'CADRE_LLM__PROVIDERS__SCRIPTED__';
  return {
    CADRE_DECOMPOSER__PROVIDER: 'scripted',
    [`${p}KIND`]: 'openai',
    [`${p}BASE_URL`]: baseUrl,
    [`${p}MODEL`]: 'm',
    [`${p}PRICES__INPUT_PER_MTOK`]: '3.0',
    [`${p}PRICES__OUTPUT_PER_MTOK`]: '15.0',
  };
}

async function startServer(extraEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cadre-e2e-'));
  const key = `sk-orch-${randomBytes(24).toString('hex')}`;
  const port = await freePort();
  const logPath = join(dataDir, 'server.log');
  const log = openSync(logPath, 'a');
  const child = spawn(CADRE_BIN, ['serve'], {
    env: { ...process.env, ...extraEnv, CADRE_BOOTSTRAP_KEY: key, CADRE_DATA_DIR: dataDir, CADRE_BIND: `127.0.0.1:${port}` },
    stdio: ['ignore', log, log],
    detached: true,
  });
  let exited = false;
  serverPid = child.pid;
  child.once('exit', () => {
    exited = true;
    serverPid = null;
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const deadline = Date.now() + STOP_GRACE_MS;
      while (!exited && Date.now() < deadline) await sleep(POLL_MS);
      if (!exited) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const logTail = () => {
    try {
      return readFileSync(logPath, 'utf8').slice(-LOG_TAIL_CHARS);
    } catch {
      return '(no log)';
    }
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) throw Object.assign(new Error(`cadre exited early:\n${logTail()}`), { stop });
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`cadre not ready within ${READY_TIMEOUT_MS} ms:\n${logTail()}`);
    }
    await sleep(POLL_MS);
  }
  return { base, key, stop, logTail };
}

// ---- REST helpers ------------------------------------------------------------------------

function restClient(base, key) {
  return async (method, path, body) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return json;
  };
}

const sleepWorker = (name, ms) => ({ name, run: { type: 'sleep', ms } });

/** root → 2 orchestrators (the second after the first) → 2–3 sleep workers each. */
const THREE_LEVEL_JOB = {
  request: 'e2e: three levels, watched live',
  labels: { e2e: 'three-level' },
  plan: {
    name: 'root',
    children: [
      { name: 'build', children: [sleepWorker('compile', 700), sleepWorker('lint', 400), sleepWorker('pack', 500)] },
      { name: 'test', depends_on: ['build'], children: [sleepWorker('unit', 600), sleepWorker('integration', 800)] },
    ],
  },
};
const THREE_LEVEL_NODES = 8;

const LONG_JOB = {
  request: 'e2e: long, to cancel',
  labels: { e2e: 'long' },
  plan: {
    name: 'long',
    children: [
      sleepWorker('wait', 60_000),
      { name: 'process', run: { type: 'command', argv: ['sleep', '60'] } },
      { name: 'team', children: [sleepWorker('w1', 60_000), sleepWorker('w2', 60_000)] },
    ],
  },
};

const PARALLEL_JOB = {
  request: 'e2e: parallel sleepers for the resources view',
  labels: { e2e: 'parallel' },
  plan: { name: 'fan', children: ['p1', 'p2', 'p3', 'p4', 'p5'].map((n) => sleepWorker(n, 3000)) },
};

/**
 * root → 3 areas → 3 teams each → 12 short sleep workers each: 1 + 3 + 9 + 108 = 121 nodes. The
 * depth-3 quota (3 by default) runs the workers a few at a time, so the job lasts long enough
 * to watch its timeline grow.
 */
const BIG_JOB_AREAS = ['north', 'south', 'west'];
const BIG_JOB_TEAMS = 3;
const BIG_JOB_WORKERS = 12;
const BIG_JOB_NODES = 1 + BIG_JOB_AREAS.length * (1 + BIG_JOB_TEAMS * (1 + BIG_JOB_WORKERS));
const BIG_JOB_DEPTHS = 4;
const BIG_JOB_TIMEOUT_MS = 120_000;
const bigWorkerMs = (i) => 150 + (i % 4) * 100;
const BIG_JOB = {
  request: 'e2e: 121 nodes, for the overview and the timeline',
  labels: { e2e: 'big' },
  plan: {
    name: 'org',
    children: BIG_JOB_AREAS.map((area) => ({
      name: area,
      children: Array.from({ length: BIG_JOB_TEAMS }, (_, t) => ({
        name: `${area}-team${t + 1}`,
        children: Array.from({ length: BIG_JOB_WORKERS }, (_, w) => sleepWorker(`${area}${t + 1}-w${w + 1}`, bigWorkerMs(w))),
      })),
    })),
  },
};

/** A job that keeps several levels busy while the views are checked and photographed. */
const SHOWCASE_JOB = {
  request: 'e2e: showcase team',
  labels: { e2e: 'showcase' },
  config: { max_depth: 3, retry: { max_attempts: 2, initial_backoff_ms: 100 } },
  plan: {
    name: 'cto',
    on_child_failure: 'continue',
    children: [
      {
        name: 'platform',
        on_child_failure: 'continue',
        children: [
          { name: 'storage', children: [sleepWorker('alice', 90_000), sleepWorker('bob', 90_000)] },
          { name: 'api', children: [sleepWorker('carol', 90_000), { name: 'dan', run: { type: 'fail', message: 'flaky test' } }] },
        ],
      },
      {
        name: 'product',
        children: [
          { name: 'web', children: [sleepWorker('erin', 90_000), sleepWorker('frank', 90_000)] },
          { name: 'mobile', children: [sleepWorker('grace', 90_000)] },
        ],
      },
      { name: 'docs', run: { type: 'echo', value: { pages: 12 } } },
    ],
  },
};

/**
 * An llm lead that grows its own team: the scripted model answers its first call with a
 * spawn_children tool call (writer and checker, llm workers too), each child with "part
 * done", and the lead's second call (the children's outcomes in a tool message) with "The
 * team is done.". The job has a budget of $1 (the lead's envelope, which its children draw
 * on): far more than a call can reserve (4,096 output tokens at $15 per million, plus the
 * request's bytes as input tokens at $3), so it only shows.
 */
const AGENT_JOB = {
  request: 'e2e: an llm lead and the team it spawns',
  labels: { e2e: 'agents' },
  config: { budget: { cost: 1.0 } },
  plan: { name: 'lead', title: 'Lead the team', run: { type: 'llm', provider: 'scripted', tools: ['spawn_children'] } },
};
/** The lead's two calls and one call per child, 1,200 tokens in and 30 out each. */
const AGENT_CALLS = 4;
const AGENT_NODES = 3;
// 4 × (1,200 + 30) = 4,920 tokens; 4 × (1,200 × $3 + 30 × $15) / 1M = $0.0162.
const AGENT_CARD_USAGE = '4.9k tok · $0.016';
const AGENT_JOB_TOKENS = '4,800 in / 120 out';
const AGENT_JOB_COST = '$0.016';
/** The job's budget in its summary: the same $0.0162 against the $1 allocated. */
const AGENT_JOB_BUDGET = '$0.0162 of $1.0000 (2 %)';

/**
 * A decomposing root: the scripted model writes the plan (project "Chirp") and breaks it into
 * a database task and a backend task; cadre puts them under the managers `database` and
 * `backend`, one echo agent each (so no further model calls).
 */
const DECOMPOSE_JOB = {
  request: 'e2e: build Chirp, a tiny Twitter',
  labels: { e2e: 'decomposition' },
  config: { max_depth: 2 },
  plan: { name: 'app', decompose: { type: 'llm', provider: 'scripted', agent: { type: 'echo', value: 'built' } } },
};
/** The plan and breakdown calls. */
const DECOMPOSE_CALLS = 2;
const DECOMPOSE_MANAGERS = ['database', 'backend'];
/** The agents cadre names after the tasks' functions, and their tasks, by manager. */
const DECOMPOSE_AGENTS = ['table_creation', 'api_endpoints'];
const DECOMPOSE_TASKS = ['Create Posts table', 'POST /api/posts'];
const DECOMPOSE_NODES = 1 + DECOMPOSE_MANAGERS.length + DECOMPOSE_AGENTS.length;

/**
 * A request without a plan that the server's decomposer classifies: the scripted model asks
 * "Which city?" (the job pauses), and once answered takes it for a direct answer, given by one
 * llm worker `answer`.
 */
const INTENT_JOB = {
  request: 'e2e: how many people live in the city?',
  labels: { e2e: 'intent' },
  config: { intent: 'auto' },
};
/** Two classifications (before and after the answer) and the answer. */
const INTENT_CALLS = 3;

/**
 * A release whose deploy a person approves before it starts, in the inbox. The e2e key both
 * submits and approves it (an admin key: `scope:admin`), hence `allow_self`.
 */
const APPROVAL_PROMPT = 'Ship it?';
const APPROVAL_COMMENT = 'green across the board';
const APPROVAL_JOB = {
  request: 'e2e: a release a person approves',
  labels: { e2e: 'approval' },
  plan: {
    name: 'release',
    children: [
      { name: 'build', run: { type: 'echo', value: 1 } },
      {
        name: 'deploy',
        depends_on: ['build'],
        approval: { before: true, prompt: APPROVAL_PROMPT, approvers: ['scope:admin'], allow_self: true },
        run: { type: 'echo', value: 'deployed' },
      },
    ],
  },
};
/** A hotfix a person rejects (rejecting one's own job's request needs no `allow_self`). */
const REJECT_PROMPT = 'Patch production now?';
const REJECT_COMMENT = 'not on a Friday';
const REJECT_JOB = {
  request: 'e2e: a hotfix a person rejects',
  labels: { e2e: 'approval-rejected' },
  plan: {
    name: 'hotfix',
    children: [{ name: 'patch', approval: { before: true, prompt: REJECT_PROMPT, approvers: ['scope:admin'] }, run: { type: 'echo', value: 'patched' } }],
  },
};
/**
 * Left waiting for the axe and screenshot steps: a start that asks for input following a
 * schema (two levels: its own for an hour, then the job's owners), and a result to accept.
 */
const APPROVAL_SCHEMA = { type: 'object', properties: { replicas: { type: 'integer', minimum: 1 } }, required: ['replicas'] };
const WAITING_JOB = {
  request: 'e2e: a rollout waiting for people',
  labels: { e2e: 'approval-waiting' },
  plan: {
    name: 'rollout',
    children: [
      {
        name: 'migrate',
        approval: {
          before: true,
          prompt: 'Migrate on how many replicas?',
          approvers: ['scope:admin'],
          allow_self: true,
          input_schema: APPROVAL_SCHEMA,
          timeout_s: 3600,
          on_timeout: 'escalate',
        },
        run: { type: 'echo', value: 'migrated' },
      },
      {
        name: 'report',
        approval: { after: true, prompt: 'Publish this report?', approvers: ['scope:admin'], allow_self: true },
        run: { type: 'echo', value: { pages: 3, summary: 'all green' } },
      },
    ],
  },
};

/**
 * Escalation (recovery level 3): `broken` fails and its team's policy puts the failure to a
 * person; skipped with a result, it counts as succeeded and `after` goes on.
 */
const ESCALATE_RESULT = { by: 'hand' };
const ESCALATE_JOB = {
  request: 'escalate',
  labels: { e2e: 'escalation' },
  plan: {
    name: 'team',
    recovery: { process: 'escalate' },
    on_child_failure: 'continue',
    children: [
      { name: 'broken', run: { type: 'fail', message: 'boom' } },
      { name: 'after', depends_on: ['broken'], run: { type: 'echo', value: 'went on' } },
    ],
  },
};
/** A worker that fails once: retried with more memory, it succeeds on its second attempt. */
const RETRY_WITH_MEMORY_MB = 256;
const RETRY_WITH_JOB = {
  request: 'e2e: a flaky worker retried with more memory',
  labels: { e2e: 'escalation-retry-with' },
  plan: { name: 'crew', recovery: { process: 'escalate' }, children: [{ name: 'flaky', run: { type: 'fail', message: 'x', times: 1 } }] },
};
/** Left waiting for the axe and screenshot steps: an escalation (its Retry with… form opened there). */
const WAITING_ESCALATION_JOB = {
  request: 'e2e: a nightly import whose failure waits for a person',
  labels: { e2e: 'escalation-waiting' },
  plan: { name: 'nightly', recovery: { process: 'escalate' }, children: [{ name: 'import', run: { type: 'fail', message: 'disk full on /data' } }] },
};

/**
 * Alerts: a suite whose first five workers fail, one at a time (`max_parallel: 1`, no
 * retries). Past the default rule (more than 20 % of at least 5 finished workers failed) its
 * failure-rate alert fires and holds the job: `s1`–`s4` stay pending until someone resumes it.
 */
const FLAKY_FAILING = ['f1', 'f2', 'f3', 'f4', 'f5'];
const FLAKY_SLEEPING = ['s1', 's2', 's3', 's4'];
const flakyJob = (request, label) => ({
  request,
  labels: { e2e: label },
  config: {},
  plan: {
    name: 'suite',
    on_child_failure: 'continue',
    max_parallel: 1,
    retry: { max_attempts: 1 },
    children: [...FLAKY_FAILING.map((name) => ({ name, run: { type: 'fail', message: 'broken' } })), ...FLAKY_SLEEPING.map((name) => sleepWorker(name, 50))],
  },
});
const FLAKY_JOB = flakyJob('flaky suite', 'alerts');
/** Left held for the axe and screenshot steps. */
const HELD_JOB = flakyJob('e2e: a flaky suite left held', 'alerts-held');
const HELD_TEXT = 'New starts are held: 5 of 5 finished nodes failed (100 % > 20 %).';

/**
 * The standing workforce (issue 16): a CEO, an engineering lead reporting to it, and a Rust
 * developer reporting to the lead, who takes one task at a time (each a second's `sleep`).
 */
const WORKFORCE_AGENTS = [
  { name: 'ceo', title: 'Chief Executive', run: { type: 'command', argv: ['true'] }, concurrency: 2 },
  { name: 'eng-lead', title: 'Engineering lead', reports_to: 'ceo', department: 'engineering', run: { type: 'command', argv: ['true'] } },
  { name: 'dev-a', reports_to: 'eng-lead', capabilities: ['lang=rust'], run: { type: 'command', argv: ['sleep', '1'] }, concurrency: 1 },
];
/** Two tasks delegated by capability: both go to dev-a, one after the other. */
const WORKFORCE_JOB = {
  request: 'e2e: two tasks for whoever writes Rust',
  labels: { e2e: 'workforce' },
  plan: {
    name: 'root',
    children: [
      { name: 't1', delegate: { require: ['lang=rust'] } },
      { name: 't2', delegate: { require: ['lang=rust'] } },
    ],
  },
};
const WORKFORCE_TASKS = ['t1', 't2'];

/** Mailboxes (issue 17): a team whose one worker sleeps long enough to be written to. */
const TALK_JOB = {
  request: 'talk',
  plan: { name: 'team', children: [{ name: 'lead', children: [{ name: 'worker', run: { type: 'sleep', ms: 60000 } }] }] },
};
/** The server sweeps expired messages every 0.5 s: a 1 s time to live is dead well within this. */
const TTL_WAIT_MS = 2500;

/**
 * Workspaces (issue 17): a throwaway git repository whose `main` holds notes.txt, ten lines
 * `one`…`ten`, and command workers that each rewrite one line of it in their own worktree.
 */
const NOTES_LINES = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const GIT_IDENTITY = ['-c', 'user.name=e2e', '-c', 'user.email=e2e@localhost'];
/** A command worker that sets line `line` of notes.txt to `text`, then waits `seconds`. */
const editWorker = (name, line, text, seconds) => ({
  name,
  run: { type: 'command', argv: ['sh', '-c', `sed -i '${line}s/.*/${text}/' notes.txt${seconds > 0 ? ` && sleep ${seconds}` : ''}`] },
});
const workspaceOf = (repo) => ({ repo, base: 'main', merge: 'up' });
/** alice and bob edit lines 1 and 10 at once: git merges both into their team's branch. */
const workspaceTeamJob = (repo) => ({
  request: 'e2e: two workers edit one repository in parallel',
  labels: { e2e: 'workspace' },
  workspace: workspaceOf(repo),
  plan: { name: 'team', children: [editWorker('alice', 1, 'ONE by alice', 1), editWorker('bob', 10, 'TEN by bob', 1)] },
});
/** fast and slow both rewrite line 1; slow merges second (2 s later) and conflicts. No retry: it would conflict again. */
const WORKSPACE_SLOW_S = 2;
const workspaceClashJob = (repo) => ({
  request: 'e2e: two workers edit the same line',
  labels: { e2e: 'workspace-conflict' },
  workspace: workspaceOf(repo),
  config: { retry: { max_attempts: 1 } },
  plan: { name: 'clash', children: [editWorker('fast', 1, 'ONE by fast', 0), editWorker('slow', 1, 'ONE by slow', WORKSPACE_SLOW_S)] },
});
/** A node's branch: its name and its id's last 8 hex digits, under the job's `cadre/<job>/`. */
const nodeBranch = (jobId, nodeId, name) => `cadre/${jobId.replaceAll('-', '')}/${name}-${nodeId.replaceAll('-', '').slice(-8)}`;

/** The id of the node named `name` in a job view's tree (breadth first). */
function nodeIdNamed(view, name) {
  const queue = [view.tree];
  for (let n = queue.shift(); n; n = queue.shift()) {
    if (n.name === name) return n.id;
    queue.push(...(n.children ?? []));
  }
  throw new Error(`no node named ${name} in job ${view.job_id}`);
}

// ---- page helpers ------------------------------------------------------------------------

async function waitFor(page, fn, arg, timeout, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: POLL_MS });
  } catch {
    const detail = typeof what === 'function' ? await what() : what;
    throw new Error(`timed out after ${timeout} ms waiting for ${detail}`);
  }
}

async function treeStatuses(page) {
  return page.$$eval('[role="treeitem"]', (els) => els.map((e) => `${e.getAttribute('data-node-id')?.slice(-6)}:${e.getAttribute('data-status')}`));
}

/** The overview's drawing and panel boxes, its transform and its circles' statuses. */
async function overviewState(page) {
  return page.evaluate(() => {
    const svg = document.querySelector('svg.overview-svg');
    const group = document.querySelector('g.ov-viewport');
    const circles = [...document.querySelectorAll('circle.ov-node')];
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    };
    return {
      panel: svg ? box(svg) : null,
      drawing: group ? box(group) : null,
      transform: group?.getAttribute('transform') ?? '',
      circles: circles.length,
      statuses: circles.map((c) => c.getAttribute('data-status')),
    };
  });
}

/** The timeline's bars (id, status, depth, duration) in row order, headers and grouping. */
async function timelineState(page) {
  return page.evaluate(() => ({
    bars: [...document.querySelectorAll('rect.tl-bar')].map((r) => ({
      id: r.getAttribute('data-node-id'),
      status: r.getAttribute('data-status'),
      depth: Number(r.getAttribute('data-depth')),
      duration: Number(r.getAttribute('data-duration-ms')),
    })),
    headers: document.querySelectorAll('.tl-header').length,
    grouping: document.querySelector('svg.timeline-rows')?.getAttribute('data-grouping') ?? null,
  }));
}

const inside = (inner, outer) =>
  inner.left >= outer.left - 1 && inner.top >= outer.top - 1 && inner.right <= outer.right + 1 && inner.bottom <= outer.bottom + 1;

async function gotoHash(page, hash) {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

async function runAxe(page, view) {
  await page.addScriptTag({ path: AXE_PATH });
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of violations) {
    console.log(`      axe ${view}: [${v.impact}] ${v.id} — ${v.help} — ${v.nodes.join(', ')}`);
  }
  assert(bad.length === 0, `${bad.length} serious/critical axe violations on ${view}`);
}

// ---- main --------------------------------------------------------------------------------

async function main() {
  let server = null;
  // The model the agents step's llm workers call; only a server started here is told of it.
  let llm = null;
  let base = process.env.E2E_BASE_URL;
  let key = process.env.E2E_KEY;
  if (!base) {
    llm = await startScriptedLlm();
    try {
      server = await startServer(scriptedProviderEnv(llm.baseUrl));
    } catch (err) {
      await llm.stop();
      throw err;
    }
    base = server.base;
    key = server.key;
  }
  assert(key, 'E2E_KEY is required with E2E_BASE_URL');
  let browser = null;
  const consoleProblems = [];
  /** What steps leave for the axe and screenshot steps to show, removed when the run ends (while the server still runs). */
  const cleanups = [];
  try {
    const adminRest = restClient(base, key);
    /** The name decisions are recorded under (unknown when the given key is used). */
    let keyName = null;
    // A key of its own with a high rate limit, so the run never meets a 429.
    try {
      const created = await adminRest('POST', '/keys', {
        name: 'e2e',
        scopes: ['read', 'write', 'admin'],
        rate_limit: { per_second: E2E_RATE_PER_SECOND, burst: E2E_RATE_PER_SECOND },
      });
      key = created.key;
      keyName = created.name;
    } catch (err) {
      console.log(`note: using the bootstrap key (${err.message})`);
    }
    const rest = restClient(base, key);

    await step('server serves the dashboard at /', async () => {
      const res = await fetch(`${base}/`);
      const html = await res.text();
      assert(res.ok && html.includes('<div id="root">'), `GET / answered ${res.status}: ${html.slice(0, 200)}`);
      const deep = await fetch(`${base}/jobs/some-client-route`);
      assert(deep.ok && (await deep.text()).includes('<div id="root">'), `an app route answered ${deep.status}`);
    });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: DESKTOP });
    const watch = (page, label) => {
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') consoleProblems.push(`${label} console.${msg.type()}: ${msg.text()}`);
      });
      page.on('pageerror', (err) => consoleProblems.push(`${label} pageerror: ${err.message}`));
    };
    const page = await context.newPage();
    watch(page, 'main');
    let boot = null;

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const shoot = async (p, view, prepare) => {
      for (const [size, viewport] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ]) {
        await p.setViewportSize(viewport);
        await sleep(250);
        if (prepare) await prepare(p);
        await p.screenshot({ path: join(SCREENSHOT_DIR, `${view}-${size}.png`), fullPage: false });
      }
      await p.setViewportSize(DESKTOP);
    };

    await step('a. key prompt, connect, indicator becomes live', async () => {
      await page.goto(`${base}/`);
      const input = page.getByLabel('API key');
      await input.waitFor({ timeout: LIVE_TIMEOUT_MS });
      await shoot(page, 'login');
      await input.fill(key);
      await page.getByRole('button', { name: 'Connect' }).click();
      await waitFor(page, () => document.querySelector('[role="status"].conn')?.getAttribute('data-state') === 'live', null, LIVE_TIMEOUT_MS, 'indicator live');
      const text = await page.locator('[role="status"].conn').innerText();
      assert(text.includes('live'), `indicator says "${text}"`);
      boot = await page.evaluate(() => window.__cadreBoot);
      assert(boot, 'no __cadreBoot marker');
    });

    let liveJobId = null;
    await step('b. submit a 3-level job, validate, run, watch it live to the end without reload', async () => {
      await page.getByRole('link', { name: 'Submit', exact: true }).click();
      const area = page.getByLabel('Job specification (JSON or YAML)');
      await area.fill(JSON.stringify(THREE_LEVEL_JOB, null, 2));
      await page.getByRole('button', { name: 'Validate' }).click();
      await waitFor(page, () => document.querySelector('[data-testid="estimate-nodes"]') !== null, null, LIVE_TIMEOUT_MS, 'the estimate');
      const nodes = await page.getByTestId('estimate-nodes').innerText();
      assert(nodes.trim() === String(THREE_LEVEL_NODES), `estimate says ${nodes} nodes`);
      await shoot(page, 'submit');
      await page.getByRole('button', { name: 'Run' }).click();
      await waitFor(page, () => /^#\/jobs\/[0-9a-f-]+$/.test(window.location.hash), null, LIVE_TIMEOUT_MS, 'the job page');
      liveJobId = (await page.evaluate(() => window.location.hash)).split('/')[2];
      await waitFor(page, () => document.querySelector('[role="treeitem"][data-status="running"]') !== null, null, JOB_TIMEOUT_MS, 'a running treeitem');
      await waitFor(
        page,
        (n) => {
          const items = [...document.querySelectorAll('[role="treeitem"]')];
          return items.length === n && items.every((e) => e.getAttribute('data-status') === 'succeeded');
        },
        THREE_LEVEL_NODES,
        JOB_TIMEOUT_MS,
        async () => `all ${THREE_LEVEL_NODES} treeitems succeeded (now: ${(await treeStatuses(page)).join(' ')})`,
      );
      await waitFor(page, () => document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') === 'succeeded', null, LIVE_TIMEOUT_MS, 'job status succeeded');
      const after = await page.evaluate(() => window.__cadreBoot);
      assert(after === boot, `the page reloaded (boot marker ${boot} → ${after})`);
    });

    let longJobId = null;
    await step('c. cancel a long job from its page, watch it become cancelled live', async () => {
      const created = await rest('POST', '/recursion/job', LONG_JOB);
      longJobId = created.job_id;
      await gotoHash(page, `#/jobs/${longJobId}`);
      await waitFor(page, () => document.querySelectorAll('[role="treeitem"][data-status="running"]').length >= 2, null, JOB_TIMEOUT_MS, 'running workers');
      await page.getByRole('button', { name: 'Cancel job' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      const focusedInside = await page.evaluate(() => document.querySelector('[role="dialog"]').contains(document.activeElement));
      assert(focusedInside, 'focus did not move into the dialog');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await waitFor(page, () => document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') === 'cancelled', null, JOB_TIMEOUT_MS, 'job status cancelled');
      await waitFor(
        page,
        () => {
          const items = [...document.querySelectorAll('[role="treeitem"]')];
          return items.length > 0 && items.every((e) => e.getAttribute('data-status') === 'cancelled');
        },
        null,
        JOB_TIMEOUT_MS,
        'every node cancelled',
      );
      const after = await page.evaluate(() => window.__cadreBoot);
      assert(after === boot, 'the page reloaded');
    });

    await step('d. resources: a depth bar goes above 0 while workers run, then back to 0; the server is a cluster of one', async () => {
      await page.getByRole('link', { name: 'Resources', exact: true }).click();
      await page.locator('[role="meter"][data-depth="1"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
      await rest('POST', '/recursion/job', PARALLEL_JOB);
      await waitFor(page, () => Number(document.querySelector('[role="meter"][data-depth="1"]')?.getAttribute('data-in-use')) > 0, null, JOB_TIMEOUT_MS, 'depth 1 in use > 0');
      const label = await page.locator('[role="meter"][data-depth="1"]').getAttribute('aria-label');
      assert(/^depth 1 \(pm\) \d+ of \d+ slots in use$/.test(label ?? ''), `meter label "${label}"`);
      await waitFor(page, () => document.querySelector('[role="meter"][data-depth="1"]')?.getAttribute('data-in-use') === '0', null, JOB_TIMEOUT_MS, 'depth 1 back to 0');
      // The server on its own: one replica, itself, live.
      await page.getByTestId('cluster-summary').waitFor({ timeout: LIVE_TIMEOUT_MS });
      const summary = await page.getByTestId('cluster-summary').textContent();
      assert(/on its own/.test(summary ?? ''), `cluster summary "${summary}"`);
      const rows = page.getByTestId('replica-row');
      assert((await rows.count()) === 1, `${await rows.count()} replica rows`);
      const row = (await rows.first().textContent()) ?? '';
      assert(row.includes('(this replica)') && row.includes('live'), `replica row "${row}"`);
      // On its own its share of each depth's quota is the whole quota.
      const shares = await rows.first().getByTestId('replica-shares').textContent();
      assert(/^\d+( · \d+){5}$/.test(shares ?? ''), `quota shares "${shares}"`);
    });

    /** Scrolls a job's node views into sight for their screenshots. */
    const showNodes = async (p) => {
      await p.evaluate(() => document.querySelector('[role="tablist"]')?.scrollIntoView({ block: 'start' }));
      await sleep(250);
    };

    let bigJobId = null;
    await step('h. a 121-node job: timeline grows live, overview fits, zooms and comes back', async () => {
      const created = await rest('POST', '/recursion/job', BIG_JOB);
      bigJobId = created.job_id;
      await gotoHash(page, `#/jobs/${bigJobId}?view=timeline`);
      const barCount = () => document.querySelectorAll('rect.tl-bar').length;
      await waitFor(page, barCount, null, JOB_TIMEOUT_MS, 'a first timeline bar');
      // Live: more bars appear, and the root's open bar keeps growing, while the job runs.
      const first = await timelineState(page);
      assert(first.grouping === 'depth', `grouping starts as ${first.grouping}`);
      await waitFor(page, (n) => document.querySelectorAll('rect.tl-bar').length > n, first.bars.length, JOB_TIMEOUT_MS, `more than ${first.bars.length} bars`);
      const root = (await timelineState(page)).bars.find((b) => b.depth === 0);
      assert(root && root.status === 'running', `the root bar is ${root?.status}`);
      await waitFor(
        page,
        ([id, d]) => Number(document.querySelector(`rect.tl-bar[data-node-id="${id}"]`)?.getAttribute('data-duration-ms')) > d,
        [root.id, root.duration],
        LIVE_TIMEOUT_MS,
        'the running root bar to grow',
      );
      assert((await page.locator('line.tl-now').getAttribute('visibility')) === 'visible', 'no "now" line while running');
      await waitFor(page, (n) => document.querySelectorAll('.tl-header').length === n, BIG_JOB_DEPTHS, JOB_TIMEOUT_MS, `${BIG_JOB_DEPTHS} depth headers`);
      // By branch: no headers, rows in depth-first order (each row at most one level deeper).
      await page.getByRole('button', { name: 'By branch' }).click();
      await waitFor(page, () => document.querySelector('svg.timeline-rows')?.getAttribute('data-grouping') === 'branch', null, LIVE_TIMEOUT_MS, 'grouping by branch');
      const branch = await timelineState(page);
      assert(branch.headers === 0, `${branch.headers} headers by branch`);
      assert(branch.bars[0]?.depth === 0, 'the first row by branch is not the root');
      const jump = branch.bars.findIndex((b, i) => i > 0 && b.depth > branch.bars[i - 1].depth + 1);
      assert(jump === -1, `row ${jump} by branch is more than one level below the row above it`);
      await shoot(page, 'timeline-running', showNodes);
      // The overview, through the tab: every node drawn, fitted inside the panel.
      await page.getByRole('tab', { name: 'Overview' }).click();
      await waitFor(page, () => window.location.hash.endsWith('?view=overview'), null, LIVE_TIMEOUT_MS, 'the overview in the URL');
      const focused = await page.evaluate(() => document.activeElement?.getAttribute('role') + ' ' + document.activeElement?.textContent);
      assert(focused === 'tab Overview', `switching views moved focus to ${focused}`);
      await waitFor(page, (n) => document.querySelectorAll('circle.ov-node').length === n, BIG_JOB_NODES, LIVE_TIMEOUT_MS, `${BIG_JOB_NODES} overview nodes`);
      const fitted = await overviewState(page);
      assert(fitted.panel && fitted.drawing && inside(fitted.drawing, fitted.panel), `the drawing ${JSON.stringify(fitted.drawing)} is not inside the panel ${JSON.stringify(fitted.panel)}`);
      await page.getByRole('button', { name: 'Zoom in' }).click();
      const zoomed = await overviewState(page);
      assert(zoomed.transform !== fitted.transform, 'Zoom in did not change the transform');
      const panel = fitted.panel;
      await page.mouse.move((panel.left + panel.right) / 2, (panel.top + panel.bottom) / 2);
      await page.mouse.wheel(0, -400);
      await waitFor(page, (t) => document.querySelector('g.ov-viewport')?.getAttribute('transform') !== t, zoomed.transform, LIVE_TIMEOUT_MS, 'the wheel to zoom');
      await page.getByRole('button', { name: 'Fit' }).click();
      const back = await overviewState(page);
      assert(back.transform === fitted.transform, `Fit gave ${back.transform}, not ${fitted.transform}`);
      await page.locator('circle.ov-node').first().click();
      await page.locator('.node-panel').waitFor({ timeout: LIVE_TIMEOUT_MS });
      // The end: every node succeeded in the overview, one closed bar per node in the timeline.
      await waitFor(page, () => document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') === 'succeeded', null, BIG_JOB_TIMEOUT_MS, 'the 121-node job to succeed');
      await waitFor(
        page,
        (n) => [...document.querySelectorAll('circle.ov-node')].filter((c) => c.getAttribute('data-status') === 'succeeded').length === n,
        BIG_JOB_NODES,
        LIVE_TIMEOUT_MS,
        async () => `every overview node succeeded (others: ${JSON.stringify((await overviewState(page)).statuses.filter((x) => x !== 'succeeded'))})`,
      );
      await page.getByRole('tab', { name: 'Timeline' }).click();
      await waitFor(page, (n) => document.querySelectorAll('rect.tl-bar[data-status="succeeded"]').length === n, BIG_JOB_NODES, LIVE_TIMEOUT_MS, `${BIG_JOB_NODES} succeeded bars`);
      const ended = await timelineState(page);
      assert(ended.bars.length === BIG_JOB_NODES, `${ended.bars.length} bars after the end`);
      assert(new Set(ended.bars.map((b) => b.id)).size === BIG_JOB_NODES, 'a node has two bars');
      assert((await page.locator('line.tl-now').getAttribute('visibility')) === 'hidden', 'the "now" line is still shown');
      const after = await page.evaluate(() => window.__cadreBoot);
      assert(after === boot, 'the page reloaded');
    });

    /** The lead's tree card on a job page (its name line reads "… lead"). */
    const leadCard = (p) => p.locator('[role="treeitem"]', { has: p.locator('.tree-name', { hasText: /^lead$/ }) });
    /** Opens the ended agent job's lead in the node panel and waits for its whole conversation. */
    const openLead = async (p, jobId) => {
      await gotoHash(p, `#/jobs/${jobId}`);
      await leadCard(p).waitFor({ timeout: LIVE_TIMEOUT_MS });
      await leadCard(p).click();
      await p.locator('.node-panel .conversation').waitFor({ timeout: LIVE_TIMEOUT_MS });
      await waitFor(
        p,
        (done) => [...document.querySelectorAll('.node-panel .convo-turn .convo-text')].some((e) => e.textContent === done),
        LEAD_DONE,
        LIVE_TIMEOUT_MS,
        `"${LEAD_DONE}" in the lead's conversation`,
      );
    };

    /** Runs axe on a view `open` brings up, in a context that lets its script in past the page's CSP. */
    const axeView = async (view, open) => {
      const axeContext = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
      try {
        await axeContext.addInitScript((k) => window.sessionStorage.setItem('cadre.apiKey', k), key);
        const axePage = await axeContext.newPage();
        watch(axePage, `${view}-axe`);
        await axePage.goto(`${base}/`);
        await open(axePage);
        await runAxe(axePage, view);
      } finally {
        await axeContext.close();
      }
    };

    if (llm) {
      await step('i. an llm lead spawns two llm children: tokens and cost on its card and the job, its conversation in the panel', async () => {
        const problemsBefore = consoleProblems.length;
        const created = await rest('POST', '/recursion/job', AGENT_JOB);
        const agentJobId = created.job_id;
        await gotoHash(page, `#/jobs/${agentJobId}`);
        await waitFor(
          page,
          () => document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') === 'succeeded',
          null,
          JOB_TIMEOUT_MS,
          async () => `the agent job to succeed (nodes: ${(await treeStatuses(page)).join(' ')}; ${llm.requests.length} model calls answered)`,
        );
        await waitFor(
          page,
          (n) => {
            const items = [...document.querySelectorAll('[role="treeitem"]')];
            return items.length === n && items.every((e) => e.getAttribute('data-status') === 'succeeded');
          },
          AGENT_NODES,
          JOB_TIMEOUT_MS,
          async () => `the lead and its ${AGENT_NODES - 1} children succeeded (now: ${(await treeStatuses(page)).join(' ')})`,
        );
        const names = await page.$$eval('[role="treeitem"] .tree-name', (els) => els.map((e) => e.textContent).sort());
        assert(JSON.stringify(names) === JSON.stringify(['lead', ...SPAWNED].sort()), `the tree holds ${names.join(', ')}`);
        // The lead's card: its subtree's tokens and cost, in the card's words and in its name.
        await waitFor(
          page,
          (want) =>
            [...document.querySelectorAll('[role="treeitem"]')].some(
              (e) => e.querySelector('.tree-name')?.textContent === 'lead' && e.querySelector('.tree-usage')?.textContent === want,
            ),
          AGENT_CARD_USAGE,
          LIVE_TIMEOUT_MS,
          async () => `"${AGENT_CARD_USAGE}" on the lead's card (it shows "${await leadCard(page).locator('.tree-usage').textContent().catch(() => '(none)')}")`,
        );
        const leadLabel = await leadCard(page).getAttribute('aria-label');
        assert(leadLabel?.includes(`, ${AGENT_CARD_USAGE.replace(' · ', ', ')}`), `the lead's card is named "${leadLabel}"`);
        // The job summary: tokens, cost and model calls.
        await waitFor(
          page,
          ([tokens, cost]) =>
            document.querySelector('[data-testid="job-tokens"]')?.textContent === tokens &&
            document.querySelector('[data-testid="job-cost"]')?.textContent === cost,
          [AGENT_JOB_TOKENS, AGENT_JOB_COST],
          LIVE_TIMEOUT_MS,
          async () =>
            `the summary to show ${AGENT_JOB_TOKENS} and ${AGENT_JOB_COST} (it shows ${await page.getByTestId('job-tokens').textContent().catch(() => '—')} and ${await page.getByTestId('job-cost').textContent().catch(() => '—')})`,
        );
        const calls = await page.evaluate(() => {
          const dt = [...(document.querySelector('[data-testid="job-tokens"]')?.closest('dl')?.querySelectorAll('dt') ?? [])].find((e) => e.textContent === 'Model calls');
          return dt?.nextElementSibling?.textContent ?? null;
        });
        assert(calls === String(AGENT_CALLS), `the summary counts ${calls} model calls`);
        // The budget: spent against allocated in the summary, a green bar on the lead's card.
        await waitFor(
          page,
          (want) => document.querySelector('[data-testid="job-budget"]')?.textContent === want,
          AGENT_JOB_BUDGET,
          LIVE_TIMEOUT_MS,
          async () => `the summary's budget to read ${AGENT_JOB_BUDGET} (it reads ${await page.getByTestId('job-budget').textContent().catch(() => '—')})`,
        );
        const bar = await leadCard(page).locator('.budget-bar').getAttribute('data-level');
        assert(bar === 'ok', `the lead's budget bar is at level ${bar}`);
        assert((await leadCard(page).getAttribute('aria-label'))?.endsWith(', budget 2 % used'), "the lead's card does not name its budget");
        assert((await page.locator('[role="treeitem"] .budget-bar').count()) === 1, 'a child without an envelope of its own shows a budget bar');
        // The lead's panel: its two turns, the spawn naming both children, their outcomes, the answer.
        await openLead(page, agentJobId);
        const panel = page.locator('.node-panel');
        const turns = await panel.locator('.convo-turn').count();
        assert(turns === 2, `the lead's conversation has ${turns} turns`);
        const spawn = await panel.locator('.convo-tool p', { hasText: 'Tool call' }).innerText();
        assert(spawn === `Tool call spawn_children: 2 children — ${SPAWNED.join(', ')}`, `the tool call reads "${spawn}"`);
        // The children's outcomes went back to the lead before its second call, shown as the
        // spawn's tool result (from the call's stored input, the same for every protocol).
        const sentBack = (await panel.locator('.convo-turn').nth(1).textContent()) ?? '';
        assert(
          sentBack.includes('Tool result') && SPAWNED.every((n) => sentBack.includes(`"name":"${n}"`)) && sentBack.includes(CHILD_DONE),
          `the lead's second call does not show the children's outcomes as a tool result: ${sentBack.slice(0, 400)}`,
        );
        const spend = await panel.getByTestId('node-spend').innerText();
        assert(spend.includes('Subtree cost') && spend.includes(AGENT_JOB_COST), `the lead's spend reads ${spend}`);
        const budget = await panel.getByTestId('node-budget').innerText();
        assert(budget.includes('$1.0000') && budget.includes('unlimited') && budget.includes('$0.0162'), `the lead's budget reads ${budget}`);
        assert(llm.requests.length === AGENT_CALLS, `the scripted model answered ${llm.requests.length} calls, not ${AGENT_CALLS}`);
        // The cards and the panel's top, then the conversation.
        await shoot(page, 'agents', showNodes);
        await shoot(page, 'agents-conversation', (p) => p.evaluate(() => document.querySelector('.node-panel .conversation')?.scrollIntoView({ block: 'start' })));
        await axeView('agents', (p) => openLead(p, agentJobId));
        const problems = consoleProblems.slice(problemsBefore);
        assert(problems.length === 0, `console problems on the agent job:\n${problems.join('\n')}`);
      });
    } else {
      console.log('note: step i (agents) skipped: a server given by E2E_BASE_URL has no scripted provider');
    }

    /** A node's tree card on a job page, by its name. */
    const nodeCard = (p, name) => p.locator('[role="treeitem"]', { has: p.locator('.tree-name', { hasText: new RegExp(`^${name}$`) }) });
    const jobStatus = (p) => p.evaluate(() => document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') ?? null);
    const waitForJobStatus = (p, status, timeout, what) =>
      waitFor(
        p,
        (want) => document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') === want,
        status,
        timeout,
        async () => `${what} to be ${status} (it is ${await jobStatus(p)}; nodes: ${(await treeStatuses(p)).join(' ')}; ${llm.requests.length} model calls answered)`,
      );
    /** Opens the decomposed job's root in the node panel and waits for its Plan section. */
    const openPlan = async (p, jobId) => {
      await gotoHash(p, `#/jobs/${jobId}`);
      await nodeCard(p, DECOMPOSE_JOB.plan.name).waitFor({ timeout: LIVE_TIMEOUT_MS });
      await nodeCard(p, DECOMPOSE_JOB.plan.name).click();
      await waitFor(
        p,
        ([project, managers]) => {
          const plan = document.querySelector('.node-panel [data-testid="node-plan"]');
          return !!plan?.textContent?.includes(`Project: ${project}`) && plan.querySelectorAll('ul.plan-managers > li[data-manager]').length === managers;
        },
        [PROJECT, DECOMPOSE_MANAGERS.length],
        LIVE_TIMEOUT_MS,
        async () => `the root's Plan section with "Project: ${PROJECT}" and its managers (it shows: ${await p.locator('.node-panel').innerText().catch(() => '(no panel)')})`,
      );
    };
    /** Opens a paused job's page and waits for its question. */
    const openQuestion = async (p, jobId) => {
      await gotoHash(p, `#/jobs/${jobId}`);
      await waitFor(
        p,
        (q) => document.querySelector('[data-testid="clarification-question"]')?.textContent === q,
        CLARIFY_QUESTION,
        JOB_TIMEOUT_MS,
        async () =>
          `the question "${CLARIFY_QUESTION}" (job ${await jobStatus(p)}; form: ${await p.getByTestId('clarification').innerText().catch(() => '(none)')})`,
      );
    };

    if (llm) {
      await step('j. decomposition: the plan, managers, agents and tasks in the root panel, the report; a question answered in the job view', async () => {
        const problemsBefore = consoleProblems.length;
        const callsBefore = llm.requests.length;
        // A decomposing root: planned, broken down, run by two managers with one agent each.
        const decomposed = await rest('POST', '/recursion/job', DECOMPOSE_JOB);
        const decomposedId = decomposed.job_id;
        await gotoHash(page, `#/jobs/${decomposedId}`);
        await waitForJobStatus(page, 'succeeded', JOB_TIMEOUT_MS, 'the decomposing job');
        await waitFor(
          page,
          (n) => {
            const items = [...document.querySelectorAll('[role="treeitem"]')];
            return items.length === n && items.every((e) => e.getAttribute('data-status') === 'succeeded');
          },
          DECOMPOSE_NODES,
          JOB_TIMEOUT_MS,
          async () => `the root, its managers and agents succeeded (now: ${(await treeStatuses(page)).join(' ')})`,
        );
        const names = await page.$$eval('[role="treeitem"] .tree-name', (els) => els.map((e) => e.textContent).sort());
        const wantNames = [DECOMPOSE_JOB.plan.name, ...DECOMPOSE_MANAGERS, ...DECOMPOSE_AGENTS].sort();
        assert(JSON.stringify(names) === JSON.stringify(wantNames), `the tree holds ${names.join(', ')}, not ${wantNames.join(', ')}`);
        // The root's Plan section: the plan as the model wrote it, who got which task.
        await openPlan(page, decomposedId);
        const plan = page.locator('.node-panel [data-testid="node-plan"]');
        const shown = await plan.evaluate((el) => {
          const texts = (selector) => [...el.querySelectorAll(selector)].map((e) => e.textContent);
          return {
            components: texts('ul.plan-components > li > strong'),
            requirements: texts('ul.plan-components > li > ul > li'),
            constraints: texts('ul[aria-label="Technical constraints"] > li'),
            criteria: texts('ul[aria-label="Success criteria"] > li'),
            managers: [...el.querySelectorAll('ul.plan-managers > li[data-manager]')].map((m) => ({
              manager: m.getAttribute('data-manager'),
              agents: [...m.querySelectorAll('li[data-agent]')].map((a) => ({
                agent: a.getAttribute('data-agent'),
                tasks: [...a.querySelectorAll('ul.plan-tasks > li')].map((t) => t.textContent),
              })),
            })),
          };
        });
        const want = {
          components: PLAN.components.map((c) => c.name),
          requirements: PLAN.components.flatMap((c) => c.specific_requirements),
          constraints: PLAN.technical_constraints,
          criteria: PLAN.success_criteria,
          managers: DECOMPOSE_MANAGERS.map((manager, i) => ({ manager, agents: [{ agent: DECOMPOSE_AGENTS[i], tasks: [DECOMPOSE_TASKS[i]] }] })),
        };
        assert(JSON.stringify(shown) === JSON.stringify(want), `the Plan section shows ${JSON.stringify(shown)},\n      not ${JSON.stringify(want)}`);
        // A manager's name selects its node.
        await plan.getByRole('button', { name: `Select node ${DECOMPOSE_MANAGERS[0]}` }).click();
        await waitFor(
          page,
          (name) => document.querySelector('.node-panel h2')?.textContent?.endsWith(` ${name}`),
          DECOMPOSE_MANAGERS[0],
          LIVE_TIMEOUT_MS,
          async () => `the panel to show ${DECOMPOSE_MANAGERS[0]} (it shows ${await page.locator('.node-panel h2').innerText().catch(() => '(none)')})`,
        );
        await openPlan(page, decomposedId);
        await shoot(page, 'decomposition', (p) => p.evaluate(() => document.querySelector('.node-panel [data-testid="node-plan"]')?.scrollIntoView({ block: 'start' })));
        // The report: Markdown, named after the project, with a download.
        const reportButton = page.getByRole('button', { name: 'Report', exact: true });
        await reportButton.click();
        await waitFor(
          page,
          (heading) => document.querySelector('[data-testid="job-report-text"]')?.textContent?.startsWith(heading),
          `# ${PROJECT}\n`,
          LIVE_TIMEOUT_MS,
          async () => `the report to start with "# ${PROJECT}" (the report shows: ${await page.locator('.job-report').innerText().catch(() => '(none)')})`,
        );
        assert((await reportButton.getAttribute('aria-expanded')) === 'true', 'the Report button is not expanded');
        const download = await page.getByRole('link', { name: 'Download .md' }).getAttribute('download');
        assert(download === `cadre-job-${decomposedId}.md`, `the report downloads as ${download}`);
        await shoot(page, 'report', (p) => p.evaluate(() => document.querySelector('.job-report')?.scrollIntoView({ block: 'start' })));
        await axeView('decomposition', async (p) => {
          await openPlan(p, decomposedId);
          await p.getByRole('button', { name: 'Report', exact: true }).click();
          await p.getByTestId('job-report-text').waitFor({ timeout: LIVE_TIMEOUT_MS });
        });
        await page.getByRole('button', { name: 'Close report' }).click();
        await page.locator('.job-report').waitFor({ state: 'detached', timeout: LIVE_TIMEOUT_MS });

        // A request without a plan: classified, asked about, paused until answered here.
        const intent = await rest('POST', '/recursion/job', INTENT_JOB);
        const intentId = intent.job_id;
        await openQuestion(page, intentId);
        await waitForJobStatus(page, 'paused', LIVE_TIMEOUT_MS, 'the asking job');
        // The root's panel shows the question, not answered yet.
        await page.locator('[role="treeitem"]').first().click();
        await waitFor(
          page,
          (q) => {
            const item = document.querySelector('.node-panel ol.plan-questions > li');
            return !!item?.textContent?.includes(`Q: ${q}`) && item.textContent.includes('waiting for an answer');
          },
          CLARIFY_QUESTION,
          LIVE_TIMEOUT_MS,
          async () => `the root's panel to show the question waiting (it shows: ${await page.locator('.node-panel').innerText().catch(() => '(no panel)')})`,
        );
        await shoot(page, 'clarification');
        await axeView('clarification', (p) => openQuestion(p, intentId));
        const form = page.getByTestId('clarification');
        await form.getByRole('textbox', { name: 'Your answer', exact: true }).fill(CLARIFY_ANSWER);
        await form.getByRole('button', { name: 'Send answer' }).click();
        await waitForJobStatus(page, 'succeeded', JOB_TIMEOUT_MS, 'the answered job');
        await page.getByTestId('clarification').waitFor({ state: 'detached', timeout: LIVE_TIMEOUT_MS });
        await waitFor(
          page,
          () => {
            const items = [...document.querySelectorAll('[role="treeitem"]')];
            return items.length === 2 && items.every((e) => e.getAttribute('data-status') === 'succeeded');
          },
          null,
          JOB_TIMEOUT_MS,
          async () => `the root and its answer succeeded (now: ${(await treeStatuses(page)).join(' ')})`,
        );
        // The root's panel: the intent after the answer, the question with its answer.
        await page.locator('[role="treeitem"]').first().click();
        await waitFor(
          page,
          ([q, a]) => {
            const item = document.querySelector('.node-panel ol.plan-questions > li');
            const intentLine = document.querySelector('.node-panel [data-testid="plan-intent"]')?.textContent ?? '';
            return !!item?.textContent?.includes(`Q: ${q}`) && item.textContent.includes(`A: ${a}`) && intentLine.includes('direct_response');
          },
          [CLARIFY_QUESTION, CLARIFY_ANSWER],
          LIVE_TIMEOUT_MS,
          async () => `the root's panel to show the answer and the direct response (it shows: ${await page.locator('.node-panel').innerText().catch(() => '(no panel)')})`,
        );
        // The answer: one llm worker's output.
        await nodeCard(page, 'answer').click();
        await waitFor(
          page,
          (text) => document.querySelector('.node-panel pre.json')?.textContent?.includes(text),
          DIRECT_ANSWER,
          LIVE_TIMEOUT_MS,
          async () => `"${DIRECT_ANSWER}" in the answer's result (it shows: ${await page.locator('.node-panel pre.json').innerText().catch(() => '(none)')})`,
        );
        const calls = llm.requests.length - callsBefore;
        assert(calls === DECOMPOSE_CALLS + INTENT_CALLS, `the scripted model answered ${calls} calls, not ${DECOMPOSE_CALLS + INTENT_CALLS}`);
        const problems = consoleProblems.slice(problemsBefore);
        assert(problems.length === 0, `console problems on the decomposition jobs:\n${problems.join('\n')}`);
      });
    } else {
      console.log('note: step j (decomposition) skipped: a server given by E2E_BASE_URL has no scripted provider');
    }

    /** A job page's node card, its status and the job's status, for the messages of a wait. */
    const describeJob = async (p) => `job ${await jobStatus(p)}; nodes: ${(await treeStatuses(p)).join(' ')}`;
    const waitForStatus = (p, status, what) =>
      waitFor(
        p,
        (want) => document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') === want,
        status,
        JOB_TIMEOUT_MS,
        async () => `${what} to be ${status} (${await describeJob(p)})`,
      );
    const waitForNode = (p, name, status) =>
      waitFor(
        p,
        ([n, want]) =>
          [...document.querySelectorAll('[role="treeitem"]')].some((e) => e.querySelector('.tree-name')?.textContent === n && e.getAttribute('data-status') === want),
        [name, status],
        JOB_TIMEOUT_MS,
        async () => `the node ${name} to be ${status} (${await describeJob(p)})`,
      );
    const badgeCount = (p) => p.evaluate(() => document.querySelector('[data-testid="approvals-badge"]')?.getAttribute('data-count') ?? '0');
    const waitForBadge = (p, count) =>
      waitFor(
        p,
        (want) => (document.querySelector('[data-testid="approvals-badge"]')?.getAttribute('data-count') ?? '0') === want,
        String(count),
        JOB_TIMEOUT_MS,
        async () => `the Approvals badge to count ${count} (it counts ${await badgeCount(p)})`,
      );
    const approvalCard = (p, node, state = 'pending') => p.locator(`article.approval-card[data-node-name="${node}"][data-state="${state}"]`);
    const openInbox = async (p, list) => {
      await p.getByRole('link', { name: /^Approvals/ }).click();
      await p.getByRole('button', { name: list, exact: true }).click();
    };

    let waitingApprovalJob = null;
    await step('k. approvals: the inbox shows a request (badge, card, prompt); the node awaits approval and the job is paused; approved in its panel, the job succeeds live; the decision listed; another rejected in the inbox fails its node', async () => {
      const problemsBefore = consoleProblems.length;
      const release = await rest('POST', '/recursion/job', APPROVAL_JOB);
      // The inbox: the badge counts it, its card shows the prompt, what it asks and of whom.
      await openInbox(page, 'Yours to decide');
      await waitForBadge(page, 1);
      const card = approvalCard(page, 'deploy');
      await card.waitFor({ timeout: JOB_TIMEOUT_MS });
      const shown = {
        prompt: await card.getByTestId('approval-prompt').innerText(),
        kind: await card.getByTestId('approval-kind').innerText(),
        approvers: await card.getByTestId('approval-approvers').innerText(),
        progress: await card.getByTestId('approval-progress').innerText(),
        job: await card.getByTestId('approval-job').getAttribute('href'),
        by: await card.getByTestId('approval-requested-by').innerText(),
      };
      const want = { prompt: APPROVAL_PROMPT, kind: 'before start', approvers: 'scope:admin', progress: '0 of 1 approval', job: `#/jobs/${release.job_id}`, by: keyName ?? shown.by };
      assert(JSON.stringify(shown) === JSON.stringify(want), `the card shows ${JSON.stringify(shown)},\n      not ${JSON.stringify(want)}`);
      assert((await card.getByRole('button', { name: 'Approve' }).count()) === 1, 'the card has no Approve button');
      // Its node's link: the job page with the node's panel open; the node awaits approval, the job is paused.
      await card.getByRole('link', { name: 'deploy', exact: true }).click();
      await waitForNode(page, 'deploy', 'awaiting_approval');
      const deployCard = nodeCard(page, 'deploy');
      const words = await deployCard.locator('.tree-meta').innerText();
      assert(words.includes('awaiting approval'), `the deploy card reads "${words}"`);
      assert((await deployCard.getAttribute('aria-label'))?.includes(', awaiting approval,'), 'the deploy card is not named awaiting approval');
      await waitForStatus(page, 'paused', 'the release job');
      assert((await page.getByTestId('clarification').count()) === 0, 'a job paused for an approval shows a question form');
      const waitingBox = await page.getByTestId('approvals-waiting').innerText();
      assert(waitingBox.includes(`deploy (before start): ${APPROVAL_PROMPT}`), `the job's waiting list reads "${waitingBox}"`);
      const panel = page.locator('.node-panel');
      const section = panel.getByTestId('node-approval');
      await section.waitFor({ timeout: LIVE_TIMEOUT_MS });
      assert((await panel.locator('h2').innerText()).endsWith(' deploy'), 'the link did not open the deploy panel');
      await shoot(page, 'approval-panel', (p) => p.evaluate(() => document.querySelector('.node-panel [data-testid="node-approval"]')?.scrollIntoView({ block: 'start' })));
      // Approved there, with a comment: the job goes on and succeeds, live.
      await section.getByLabel('Comment (optional)').fill(APPROVAL_COMMENT);
      await section.getByRole('button', { name: 'Approve' }).click();
      await page.getByText('You approved deploy.').waitFor({ timeout: LIVE_TIMEOUT_MS });
      await waitForStatus(page, 'succeeded', 'the approved release');
      await waitForNode(page, 'deploy', 'succeeded');
      assert((await page.evaluate(() => window.__cadreBoot)) === boot, 'the page reloaded');
      await waitForBadge(page, 0);
      // The decided list: who approved, at which level, the comment.
      await openInbox(page, 'Decided');
      const decided = approvalCard(page, 'deploy', 'approved');
      await decided.waitFor({ timeout: LIVE_TIMEOUT_MS });
      const decision = await decided.getByTestId('decision-text').innerText();
      assert(decision === `approved by ${keyName ?? shown.by} at level 1`, `the decision reads "${decision}"`);
      const comment = await decided.locator('.decision-comment').innerText();
      assert(comment.includes(APPROVAL_COMMENT), `the decision's comment reads "${comment}"`);

      // Another request, rejected in the inbox: its node fails, saying so.
      const hotfix = await rest('POST', '/recursion/job', REJECT_JOB);
      await openInbox(page, 'Yours to decide');
      const patch = approvalCard(page, 'patch');
      await patch.waitFor({ timeout: JOB_TIMEOUT_MS });
      assert((await patch.getByTestId('approval-prompt').innerText()) === REJECT_PROMPT, 'the hotfix card shows another prompt');
      const patchHref = await patch.getByRole('link', { name: 'patch', exact: true }).getAttribute('href');
      assert(patchHref?.startsWith(`#/jobs/${hotfix.job_id}?node=`), `the patch card links ${patchHref}`);
      // The key submitted the hotfix and its request does not allow that: it may only reject.
      assert((await patch.getByRole('button', { name: 'Approve' }).count()) === 0, 'the hotfix card offers Approve to the key that submitted the job');
      const onlyStop = await patch.getByTestId('approval-only-stop').innerText();
      assert(onlyStop === 'You submitted this job; another approver must approve it.', `the hotfix card's note reads "${onlyStop}"`);
      await patch.getByLabel('Comment (optional)').fill(REJECT_COMMENT);
      await patch.getByRole('button', { name: 'Reject' }).click();
      await page.getByText('You rejected patch.').waitFor({ timeout: LIVE_TIMEOUT_MS });
      await gotoHash(page, patchHref);
      await waitForNode(page, 'patch', 'failed');
      await waitForStatus(page, 'failed', 'the rejected hotfix');
      const error = await page.locator('.node-panel .error-text').innerText();
      assert(error.includes('rejected') && error.includes(REJECT_COMMENT), `the patch's error reads "${error}"`);

      // Left waiting for the views' checks: a start asking for input (refused when it does not
      // follow the schema), and a result to accept.
      waitingApprovalJob = await rest('POST', '/recursion/job', WAITING_JOB);
      await openInbox(page, 'Yours to decide');
      await waitForBadge(page, 2);
      const report = approvalCard(page, 'report');
      await report.waitFor({ timeout: JOB_TIMEOUT_MS });
      const result = await report.getByTestId('approval-result').innerText();
      assert(result.includes('"summary": "all green"') && (await report.getByTestId('approval-kind').innerText()) === 'accept result', `the report card shows "${result}"`);
      const migrate = approvalCard(page, 'migrate');
      const schema = JSON.parse(await migrate.getByTestId('approval-schema').textContent());
      assert(canonicalJson(schema) === canonicalJson(APPROVAL_SCHEMA), `the migrate card shows the schema ${JSON.stringify(schema)}`);
      const levels = await migrate.getByTestId('approval-level').innerText();
      assert(levels === '1 of 2: migrate', `the migrate card's level reads "${levels}"`);
      const problemsBeforeRefusal = consoleProblems.length;
      await migrate.getByLabel('Input (JSON, sent when approved)').fill('{"replicas": 0}');
      await migrate.getByRole('button', { name: 'Approve' }).click();
      const refusal = migrate.getByTestId('approval-input-error');
      await refusal.waitFor({ timeout: LIVE_TIMEOUT_MS });
      const refusalText = await refusal.innerText();
      assert(refusalText.includes('input_schema'), `the refused input reads "${refusalText}"`);
      assert((await migrate.getAttribute('data-state')) === 'pending', 'the refused request is no longer pending');
      // The browser reports the refused call (422) on its console: expected here, not a fault.
      const refused = consoleProblems.splice(problemsBeforeRefusal).filter((m) => !m.includes('status of 422'));
      consoleProblems.push(...refused);
      const problems = consoleProblems.slice(problemsBefore);
      assert(problems.length === 0, `console problems on the approval jobs:\n${problems.join('\n')}`);
    });

    /** Opens the Retry with… terms (and their model part) of the first escalation card. */
    const openRetryTerms = async (p) => {
      const esc = p.locator('article.approval-card[data-kind="escalation"]').first();
      const open = esc.getByRole('button', { name: 'Retry with…' });
      if ((await open.getAttribute('aria-expanded')) !== 'true') await open.click();
      const advanced = esc.locator('details.approval-advanced');
      if (!(await advanced.evaluate((d) => d.open))) await advanced.locator('summary').click();
      await esc.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    };

    let waitingEscalationJob = null;
    await step('l. escalations: a failed worker is held and put to a person (class, error, attempts); skipped in the inbox with a result, its job succeeds live with that result and the node after it; another retried with more memory succeeds on its retry', async () => {
      const problemsBefore = consoleProblems.length;
      const team = await rest('POST', '/recursion/job', ESCALATE_JOB);
      // The job's page, in a tab of its own, watches it live while the inbox decides.
      const jobPage = await context.newPage();
      watch(jobPage, 'escalation-job');
      try {
        await jobPage.addInitScript((k) => window.sessionStorage.setItem('cadre.apiKey', k), key);
        await jobPage.goto(`${base}/#/jobs/${team.job_id}`);
        await waitForNode(jobPage, 'broken', 'awaiting_approval');
        await waitForStatus(jobPage, 'paused', 'the escalated team');
        await waitForNode(jobPage, 'after', 'pending');
        const jobBoot = await jobPage.evaluate(() => window.__cadreBoot);
        const waitingBox = await jobPage.getByTestId('approvals-waiting').innerText();
        assert(waitingBox.includes('broken (escalation): ') && waitingBox.includes('failed (process)'), `the team's waiting list reads "${waitingBox}"`);

        // The inbox: the escalation, its prompt, the failure's class, error and attempts, four actions.
        await openInbox(page, 'Yours to decide');
        const card = approvalCard(page, 'broken');
        await card.waitFor({ timeout: JOB_TIMEOUT_MS });
        const shown = {
          kind: await card.getByTestId('approval-kind').innerText(),
          failedProcess: (await card.getByTestId('approval-prompt').innerText()).includes('failed (process)'),
          class: (await card.getByTestId('escalation-class').innerText()).split(' — ')[0],
          error: await card.getByTestId('escalation-error').innerText(),
          attempts: await card.getByTestId('escalation-attempts').innerText(),
          buttons: await card.getByRole('button').allInnerTexts(),
        };
        const want = { kind: 'escalation', failedProcess: true, class: 'process', error: 'boom', attempts: '1', buttons: ['Retry', 'Retry with…', 'Skip', 'Fail'] };
        assert(JSON.stringify(shown) === JSON.stringify(want), `the escalation card shows ${JSON.stringify(shown)},\n      not ${JSON.stringify(want)}`);

        // Skipped with a result: the job goes on, watched live in its own tab.
        await card.getByLabel('Result if skipped (JSON, optional)').fill(JSON.stringify(ESCALATE_RESULT));
        await card.getByRole('button', { name: 'Skip', exact: true }).click();
        await page.getByText('You skipped broken: it counts as succeeded.').waitFor({ timeout: LIVE_TIMEOUT_MS });
        await waitForStatus(jobPage, 'succeeded', 'the skipped team');
        await waitForNode(jobPage, 'broken', 'succeeded');
        await waitForNode(jobPage, 'after', 'succeeded');
        assert((await jobPage.evaluate(() => window.__cadreBoot)) === jobBoot, 'the job page reloaded');
        await nodeCard(jobPage, 'broken').click();
        await waitFor(
          jobPage,
          () => document.querySelector('.node-panel pre.json')?.textContent?.includes('"hand"'),
          null,
          LIVE_TIMEOUT_MS,
          async () => `broken's result in its panel (it shows: ${await jobPage.locator('.node-panel').innerText().catch(() => '(no panel)')})`,
        );
        const stored = await rest('GET', `/recursion/job/${team.job_id}?results=true`);
        const byName = Object.fromEntries((stored.tree?.children ?? []).map((n) => [n.name, n]));
        assert(canonicalJson(byName.broken?.result) === canonicalJson(ESCALATE_RESULT), `broken's stored result is ${JSON.stringify(byName.broken?.result)}`);
        assert(byName.after?.status === 'succeeded', `after is ${byName.after?.status}`);
      } finally {
        await jobPage.close();
      }
      // The decided list: what was decided, by whom.
      await openInbox(page, 'Decided');
      const decided = approvalCard(page, 'broken', 'approved');
      await decided.waitFor({ timeout: LIVE_TIMEOUT_MS });
      const decision = await decided.getByTestId('decision-text').innerText();
      const decidedBy = (verb) => (keyName ? decision === `${verb} by ${keyName} at level 1` : decision.startsWith(`${verb} by `) && decision.endsWith(' at level 1'));
      assert(decidedBy('skipped'), `the skip reads "${decision}"`);
      const state = await decided.getByTestId('approval-state').innerText();
      assert(state === 'decided: it goes on', `the skipped escalation's state reads "${state}"`);

      // Another, retried with more memory: the worker succeeds on its second attempt.
      const crew = await rest('POST', '/recursion/job', RETRY_WITH_JOB);
      await openInbox(page, 'Yours to decide');
      const flaky = approvalCard(page, 'flaky');
      await flaky.waitFor({ timeout: JOB_TIMEOUT_MS });
      await flaky.getByRole('button', { name: 'Retry with…' }).click();
      const terms = flaky.getByTestId('retry-terms');
      await terms.getByLabel('Memory (MiB)').fill(String(RETRY_WITH_MEMORY_MB));
      await terms.getByRole('button', { name: 'Retry with these terms' }).click();
      await page.getByText(`You retried flaky with memory ${RETRY_WITH_MEMORY_MB} MiB.`).waitFor({ timeout: LIVE_TIMEOUT_MS });
      await gotoHash(page, `#/jobs/${crew.job_id}`);
      await waitForStatus(page, 'succeeded', 'the retried crew');
      await waitForNode(page, 'flaky', 'succeeded');
      const crewStored = await rest('GET', `/recursion/job/${crew.job_id}`);
      const attempts = crewStored.tree?.children?.[0]?.attempts;
      assert(attempts === 2, `flaky took ${attempts} attempts, not 2`);
      await openInbox(page, 'Decided');
      const retriedCard = approvalCard(page, 'flaky', 'approved');
      await retriedCard.waitFor({ timeout: LIVE_TIMEOUT_MS });
      const retried = await retriedCard.getByTestId('decision-text').innerText();
      assert(retried.startsWith(`retried with memory ${RETRY_WITH_MEMORY_MB} MiB by `) && retried.endsWith(' at level 1'), `the retry reads "${retried}"`);

      // Left waiting for the views' checks.
      waitingEscalationJob = await rest('POST', '/recursion/job', WAITING_ESCALATION_JOB);
      await openInbox(page, 'Yours to decide');
      await approvalCard(page, 'import').waitFor({ timeout: JOB_TIMEOUT_MS });
      const problems = consoleProblems.slice(problemsBefore);
      assert(problems.length === 0, `console problems on the escalation jobs:\n${problems.join('\n')}`);
    });

    const alertsBadgeCount = (p) => p.evaluate(() => document.querySelector('[data-testid="alerts-badge"]')?.getAttribute('data-count') ?? '0');
    const waitForAlertsBadge = (p, count) =>
      waitFor(
        p,
        (want) => (document.querySelector('[data-testid="alerts-badge"]')?.getAttribute('data-count') ?? '0') === want,
        String(count),
        JOB_TIMEOUT_MS,
        async () => `the Alerts badge to count ${count} (it counts ${await alertsBadgeCount(p)})`,
      );
    const alertCard = (p, jobId, open = true) => p.locator(`article.alert-card[data-rule="failure_rate"][data-job-id="${jobId}"][data-open="${open}"]`);
    const openAlerts = async (p, list) => {
      await p.getByRole('link', { name: /^Alerts/ }).click();
      await p.getByRole('button', { name: list, exact: true }).click();
    };
    /** Polls the API until the job's failure-rate alert holds it. */
    const waitForHold = async (jobId) => {
      const deadline = Date.now() + JOB_TIMEOUT_MS;
      for (;;) {
        const { alerts } = await rest('GET', `/alerts?job_id=${jobId}&open=true`);
        if (alerts.some((a) => a.rule === 'failure_rate' && a.data?.held === true)) return;
        assert(Date.now() < deadline, `job ${jobId} was not held within ${JOB_TIMEOUT_MS} ms`);
        await sleep(POLL_MS);
      }
    };

    let heldJob = null;
    let alertResolved = false;
    await step('m. alerts: five failed workers trip a suite’s failure-rate alert (badge, card, held banner, job paused, the rest pending); resumed from its page, the rest run and succeed live; the alert listed as resolved by the key', async () => {
      const problemsBefore = consoleProblems.length;
      const openBefore = (await rest('GET', '/alerts?open=true&limit=500')).alerts.length;
      const suite = await rest('POST', '/recursion/job', FLAKY_JOB);
      // The Alerts view: the badge counts it, its card says what fired and offers Resume job.
      await openAlerts(page, 'Open');
      await waitForAlertsBadge(page, openBefore + 1);
      const card = alertCard(page, suite.job_id);
      await card.waitFor({ timeout: JOB_TIMEOUT_MS });
      const shown = {
        rule: await card.getByTestId('alert-rule').innerText(),
        message: (await card.getByTestId('alert-message').innerText()).startsWith('5 of 5 finished workers failed'),
        detail: await card.getByTestId('alert-detail').innerText(),
        job: await card.getByTestId('alert-job').getAttribute('href'),
        buttons: await card.getByRole('button').allInnerTexts(),
      };
      const want = {
        rule: 'Failure rate too high',
        message: true,
        detail: '5 of 5 finished workers failed (100 % > 20 %); new starts held until someone resumes the job',
        job: `#/jobs/${suite.job_id}`,
        buttons: ['Resume job'],
      };
      assert(JSON.stringify(shown) === JSON.stringify(want), `the alert card shows ${JSON.stringify(shown)},\n      not ${JSON.stringify(want)}`);
      // Its job: held (paused, a banner, no question form), the failed five failed, the rest pending.
      await card.getByTestId('alert-job').click();
      await waitForStatus(page, 'paused', 'the held suite');
      const banner = page.getByTestId('held-banner');
      await banner.waitFor({ timeout: LIVE_TIMEOUT_MS });
      const heldText = await banner.getByTestId('held-text').innerText();
      assert(heldText.startsWith(HELD_TEXT), `the held banner reads "${heldText}"`);
      assert((await page.getByTestId('clarification').count()) === 0, 'a job held by an alert shows a question form');
      for (const name of FLAKY_FAILING) await waitForNode(page, name, 'failed');
      for (const name of FLAKY_SLEEPING) await waitForNode(page, name, 'pending');
      const pageBoot = await page.evaluate(() => window.__cadreBoot);
      // Resumed from the banner: the rest run and succeed, live; the job ends, not paused.
      await banner.getByRole('button', { name: 'Resume job' }).click();
      await page.getByText('Job resumed: new nodes start again.').waitFor({ timeout: LIVE_TIMEOUT_MS });
      for (const name of FLAKY_SLEEPING) await waitForNode(page, name, 'succeeded');
      await waitFor(
        page,
        () => ['succeeded', 'failed'].includes(document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') ?? ''),
        null,
        JOB_TIMEOUT_MS,
        async () => `the resumed suite to end (${await describeJob(page)})`,
      );
      await waitFor(page, () => !document.querySelector('[data-testid="held-banner"]'), null, LIVE_TIMEOUT_MS, 'the held banner to go');
      assert((await page.evaluate(() => window.__cadreBoot)) === pageBoot, 'the page reloaded');
      const stored = await rest('GET', `/recursion/job/${suite.job_id}`);
      const byName = Object.fromEntries((stored.tree?.children ?? []).map((n) => [n.name, n.status]));
      assert(stored.status !== 'paused' && stored.status !== 'running', `the resumed suite is ${stored.status}`);
      assert(FLAKY_SLEEPING.every((n) => byName[n] === 'succeeded'), `the suite's children are ${JSON.stringify(byName)}`);
      // The alert is resolved, by the key that resumed the job.
      await waitForAlertsBadge(page, openBefore);
      await openAlerts(page, 'Resolved');
      const resolved = alertCard(page, suite.job_id, false);
      await resolved.waitFor({ timeout: LIVE_TIMEOUT_MS });
      const by = await resolved.getByTestId('alert-resolved-by').getAttribute('data-by');
      assert(keyName ? by === keyName : Boolean(by), `the alert was resolved by "${by}", not ${keyName}`);
      assert((await resolved.getByRole('button').count()) === 0, 'a resolved alert offers Resume job');
      alertResolved = true;

      // Left held for the views' checks.
      heldJob = await rest('POST', '/recursion/job', HELD_JOB);
      await waitForHold(heldJob.job_id);
      await openAlerts(page, 'Open');
      await alertCard(page, heldJob.job_id).waitFor({ timeout: JOB_TIMEOUT_MS });
      const problems = consoleProblems.slice(problemsBefore);
      assert(problems.length === 0, `console problems on the alert jobs:\n${problems.join('\n')}`);
    });

    /** The organisation chart's card of `name`, and what it shows, for the messages of a wait. */
    const orgCard = (p, name) => p.locator(`button.org-card[data-agent="${name}"]`);
    const describeOrg = (p) =>
      p.$$eval('button.org-card', (els) =>
        els.map((e) => `${e.dataset.agent}@${e.dataset.level}<${e.dataset.manager}:${e.dataset.running}/${e.dataset.concurrency},${e.dataset.success}`).join(' '),
      );
    const waitForCard = (p, name, what, fn) =>
      waitFor(p, fn, name, JOB_TIMEOUT_MS, async () => `${name}'s card to show ${what} (cards: ${await describeOrg(p)})`);

    let orgReady = false;
    await step('n. organisation chart: three agents on three levels; dev-a works two delegated tasks live (load 1/1, then 100 % success), its panel lists them', async () => {
      const problemsBefore = consoleProblems.length;
      for (const agent of WORKFORCE_AGENTS) {
        const res = await fetch(`${base}/api/v1/agents`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(agent),
        });
        assert(res.status === 201, `POST /agents ${agent.name}: ${res.status} ${await res.text()}`);
      }
      await page.getByRole('link', { name: 'Organisation', exact: true }).click();
      await waitFor(page, () => document.querySelectorAll('button.org-card').length === 3, null, LIVE_TIMEOUT_MS, 'three agent cards');
      const shape = await page.$$eval('button.org-card', (els) => els.map((e) => `${e.dataset.agent}@${e.dataset.level}<${e.dataset.manager}`).join(' '));
      assert(shape === 'ceo@0< eng-lead@1<ceo dev-a@2<eng-lead', `the chart shows ${await describeOrg(page)}`);
      const loads = await page.$$eval('button.org-card', (els) => els.map((e) => e.querySelector('[data-testid="org-load"]')?.textContent));
      // eng-lead's concurrency is the server's default.
      assert(loads[0] === '0/2' && loads[2] === '0/1', `the chart shows ${await describeOrg(page)}`);
      const levels = await page.$$eval('button.org-card', (els) => new Set(els.map((e) => e.getBoundingClientRect().top)).size);
      assert(levels === 3, `the cards stand on ${levels} rows, not 3`);
      const label = await orgCard(page, 'ceo').getAttribute('aria-label');
      assert(label === 'Chief Executive, ceo, active, load 0/2, success —', `the CEO's card reads "${label}"`);
      const pageBoot = await page.evaluate(() => window.__cadreBoot);

      // Live: dev-a takes the tasks one at a time, then its success rate shows.
      const job = await rest('POST', '/recursion/job', WORKFORCE_JOB);
      await waitForCard(page, 'dev-a', 'a load of 1/1', (n) => {
        const card = document.querySelector(`button.org-card[data-agent="${n}"]`);
        return card?.querySelector('[data-testid="org-load"]')?.textContent === '1/1';
      });
      const deadline = Date.now() + JOB_TIMEOUT_MS;
      for (;;) {
        const { status } = await rest('GET', `/recursion/job/${job.job_id}`);
        if (status === 'succeeded') break;
        assert(!['failed', 'cancelled'].includes(status) && Date.now() < deadline, `the delegated job is ${status}`);
        await sleep(POLL_MS);
      }
      await waitForCard(page, 'dev-a', 'a success rate of 100 % and no load', (n) => {
        const card = document.querySelector(`button.org-card[data-agent="${n}"]`);
        return card?.querySelector('[data-testid="org-success"]')?.textContent === '100 %' && card?.querySelector('[data-testid="org-load"]')?.textContent === '0/1';
      });
      assert((await page.evaluate(() => window.__cadreBoot)) === pageBoot, 'the page reloaded');

      // Its panel: the two tasks, each a link to its node; one opens the job with its Agent line.
      await orgCard(page, 'dev-a').click();
      await waitFor(page, () => /^#\/org\?agent=dev-a$/.test(window.location.hash), null, LIVE_TIMEOUT_MS, "dev-a's panel in the URL");
      const panel = page.getByRole('complementary', { name: 'Selected agent' });
      await waitFor(page, () => document.querySelectorAll('[data-testid="agent-task"]').length === 2, null, LIVE_TIMEOUT_MS, "dev-a's two recent tasks");
      const tasks = await panel.getByTestId('agent-task').evaluateAll((els) =>
        els.map((e) => ({ name: e.querySelector('a code')?.textContent, href: e.querySelector('a')?.getAttribute('href'), status: e.dataset.status })),
      );
      const names = tasks.map((t) => t.name).sort();
      assert(JSON.stringify(names) === JSON.stringify(WORKFORCE_TASKS), `dev-a's tasks are ${JSON.stringify(tasks)}`);
      assert(tasks.every((t) => t.status === 'succeeded' && t.href?.startsWith(`#/jobs/${job.job_id}?node=`)), `dev-a's tasks are ${JSON.stringify(tasks)}`);
      const success = await panel.getByTestId('agent-perf').locator('tr', { hasText: 'Success rate' }).locator('td').allInnerTexts();
      assert(JSON.stringify(success) === JSON.stringify(['100 %', '100 %']), `dev-a's success rate reads ${JSON.stringify(success)}`);
      // The e2e key is an admin's: it may pause the agent.
      await panel.getByRole('button', { name: 'Pause' }).waitFor({ timeout: LIVE_TIMEOUT_MS });
      await panel.getByRole('link', { name: 't1' }).click();
      const agentLine = page.getByTestId('node-agent');
      await agentLine.waitFor({ timeout: LIVE_TIMEOUT_MS });
      assert((await agentLine.getAttribute('data-state')) === 'assigned', `t1's agent line is ${await agentLine.getAttribute('data-state')}`);
      assert((await agentLine.innerText()).startsWith('dev-a'), `t1's agent line reads "${await agentLine.innerText()}"`);
      await agentLine.getByRole('link').click();
      await page.locator('button.org-card[data-agent="dev-a"][aria-current="true"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
      orgReady = true;

      await axeView('org', async (p) => {
        await gotoHash(p, '#/org?agent=dev-a');
        await p.getByTestId('agent-task').first().waitFor({ timeout: LIVE_TIMEOUT_MS });
      });
      const problems = consoleProblems.slice(problemsBefore);
      assert(problems.length === 0, `console problems on the organisation view:\n${problems.join('\n')}`);
    });

    /** The mailbox job's views for axe and the screenshots (its job cancelled by then: the messages stay). */
    let mailViews = [];
    await step('o. mailboxes: a worker’s Mailbox lists two messages (the priority-9 one marked) and one sent from its panel; a message past its time to live shows in the job’s Dead letters live', async () => {
      const created = await rest('POST', '/recursion/job', TALK_JOB);
      const jobId = created.job_id;
      try {
        let view = null;
        const deadline = Date.now() + JOB_TIMEOUT_MS;
        for (;;) {
          view = await rest('GET', `/recursion/job/${jobId}`);
          const worker = view.tree?.children?.[0]?.children?.[0];
          if (worker?.status === 'running') break;
          assert(Date.now() < deadline && !['failed', 'cancelled', 'succeeded'].includes(view.status), `the talk job is ${view.status}, its worker ${worker?.status}`);
          await sleep(POLL_MS);
        }
        const workerId = nodeIdNamed(view, 'worker');
        const leadId = nodeIdNamed(view, 'lead');
        const urgent = await rest('POST', `/recursion/job/${jobId}/messages`, { to: workerId, priority: 9, thread_id: 'deploy', body: { text: 'stop the deploy' } });
        const low = await rest('POST', `/recursion/job/${jobId}/messages`, { to: workerId, priority: 1, body: { text: 'lunch at noon' } });
        assert(urgent.state === 'pending' && low.priority === 1, `the messages were stored as ${JSON.stringify([urgent, low])}`);

        await gotoHash(page, `#/jobs/${jobId}?node=${workerId}`);
        const panel = page.getByRole('complementary', { name: 'Selected node' });
        const mailbox = panel.getByRole('region', { name: 'Mailbox' });
        const shown = () => mailbox.getByTestId('message').evaluateAll((els) => els.map((e) => ({ id: e.dataset.messageId, urgent: e.dataset.urgent, who: e.querySelector('[data-testid="message-who"]')?.textContent })));
        await waitFor(page, () => document.querySelectorAll('[data-testid="mailbox"] [data-testid="message"]').length === 2, null, LIVE_TIMEOUT_MS, 'two messages in the worker’s Mailbox');
        const two = await shown();
        assert(two.map((m) => m.id).join() === [low.id, urgent.id].join(), `the Mailbox shows ${JSON.stringify(two)}`);
        assert(two[1].urgent === 'true' && two[0].urgent === 'false', `the priority-9 message is not marked: ${JSON.stringify(two)}`);
        if (keyName) assert(two.every((m) => m.who === `from key ${keyName}`), `the senders read ${JSON.stringify(two)}`);
        const thread = await mailbox.locator(`[data-message-id="${urgent.id}"] [data-testid="message-thread"]`).innerText();
        assert(thread === 'deploy', `the urgent message's thread reads "${thread}"`);
        const pageBoot = await page.evaluate(() => window.__cadreBoot);

        // One more, from the panel's form: a JSON body with priority 7 in the same thread.
        await panel.getByRole('button', { name: 'Send a message' }).click();
        const form = panel.getByRole('form', { name: 'Send a message to worker' });
        await form.getByLabel('Priority').selectOption('7');
        await form.getByLabel('Thread (optional)').fill('deploy');
        await form.getByLabel('Body').fill('{"from": "the panel", "ok": true}');
        await form.getByRole('button', { name: 'Send' }).click();
        await form.getByRole('status').filter({ hasText: 'Sent to worker with priority 7.' }).waitFor({ timeout: LIVE_TIMEOUT_MS });
        await waitFor(page, () => document.querySelectorAll('[data-testid="mailbox"] [data-testid="message"]').length === 3, null, LIVE_TIMEOUT_MS, 'three messages in the worker’s Mailbox');
        const { messages } = await rest('GET', `/recursion/job/${jobId}/messages`);
        const fromPanel = messages.find((m) => m.id !== urgent.id && m.id !== low.id && m.to === workerId);
        assert(
          fromPanel && fromPanel.priority === 7 && fromPanel.thread_id === 'deploy' && canonicalJson(fromPanel.body) === canonicalJson({ from: 'the panel', ok: true }),
          `the panel sent ${JSON.stringify(fromPanel)}`,
        );
        assert((await shown())[0].id === fromPanel.id, 'the message sent is not the newest in the Mailbox');
        assert(messages.every((m) => m.state === 'pending'), `listing delivered messages: ${JSON.stringify(messages.map((m) => m.state))}`);

        // A message to the lead that nobody receives within its second to live: a dead letter, live.
        const doomed = await rest('POST', `/recursion/job/${jobId}/messages`, { to: leadId, ttl_s: 1, body: { text: 'too late' } });
        await sleep(TTL_WAIT_MS);
        await waitFor(page, () => document.querySelector('[data-testid="job-nodes-badge-dead-letters"]')?.getAttribute('data-count') === '1', null, LIVE_TIMEOUT_MS, 'the Dead letters badge to count 1');
        await page.getByRole('tab', { name: /^Dead letters/ }).click();
        const dead = page.getByRole('region', { name: 'Dead letters' }).getByTestId('message');
        await dead.first().waitFor({ timeout: LIVE_TIMEOUT_MS });
        const letter = await dead.evaluateAll((els) =>
          els.map((e) => ({ id: e.dataset.messageId, reason: e.querySelector('[data-testid="message-reason"]')?.dataset.reason, who: e.querySelector('[data-testid="message-who"]')?.textContent })),
        );
        assert(letter.length === 1 && letter[0].id === doomed.id && letter[0].reason === 'ttl' && letter[0].who?.startsWith('to lead'), `the dead letters are ${JSON.stringify(letter)}`);
        assert((await page.evaluate(() => window.__cadreBoot)) === pageBoot, 'the page reloaded');
        await dead.first().getByRole('button', { name: 'Select node lead' }).click();
        await panel.getByRole('heading', { name: /lead$/, level: 2 }).waitFor({ timeout: LIVE_TIMEOUT_MS });

        await axeView('mailbox', async (p) => {
          await gotoHash(p, `#/jobs/${jobId}?node=${workerId}`);
          await p.getByTestId('mailbox').getByTestId('message').first().waitFor({ timeout: LIVE_TIMEOUT_MS });
          await p.getByRole('button', { name: 'Send a message' }).click();
        });
        await axeView('dead-letters', async (p) => {
          await gotoHash(p, `#/jobs/${jobId}?view=dead-letters`);
          await p.getByTestId('dead-letters').getByTestId('message').first().waitFor({ timeout: LIVE_TIMEOUT_MS });
        });
        mailViews = [
          ['mailbox', `#/jobs/${jobId}?node=${workerId}`, '[data-testid="mailbox"] [data-testid="message"]'],
          ['dead-letters', `#/jobs/${jobId}?view=dead-letters`, '[data-testid="dead-letters"] [data-testid="message"]'],
        ];
      } finally {
        await rest('DELETE', `/recursion/job/${jobId}`).catch(() => undefined);
      }
    });

    /** The workspace job's view for axe and the screenshots (its repository kept until the run ends). */
    let workspaceViews = [];
    await step('p. workspaces: two command workers edit a throwaway repository in parallel; the job view shows the workspace line; a worker’s panel shows its branch, the file it changed and its diff (added line coloured); the team’s panel shows both changes merged; a conflicting job’s failed node shows the merge failure naming the file', async () => {
      const problemsBefore = consoleProblems.length;
      const repo = mkdtempSync(join(tmpdir(), 'cadre-e2e-repo-'));
      const jobIds = [];
      /** The nodes' statuses and errors, for the messages of a wait. */
      const describeNodes = (view) => {
        const out = [];
        const queue = [view.tree];
        for (let n = queue.shift(); n; n = queue.shift()) {
          out.push(`${n.name}:${n.status}${n.error ? ` (${n.error})` : ''}`);
          queue.push(...(n.children ?? []));
        }
        return out.join(', ');
      };
      const waitForJob = async (jobId, want) => {
        const deadline = Date.now() + JOB_TIMEOUT_MS;
        for (;;) {
          const view = await rest('GET', `/recursion/job/${jobId}`);
          if (view.status === want) return view;
          const ended = ['failed', 'cancelled', 'succeeded'].includes(view.status);
          assert(!ended && Date.now() < deadline, `the workspace job is ${view.status}, not ${want}: ${describeNodes(view)}`);
          await sleep(POLL_MS);
        }
      };
      const panel = page.getByRole('complementary', { name: 'Selected node' });
      const section = panel.getByRole('region', { name: 'Workspace' });
      const lineText = (jobId) =>
        waitFor(
          page,
          (hex) => document.querySelector('[data-testid="job-workspace"]')?.textContent?.includes(`cadre/${hex}/job`),
          jobId.replaceAll('-', ''),
          LIVE_TIMEOUT_MS,
          'the job’s workspace line',
        ).then(() => page.getByTestId('job-workspace').innerText());
      try {
        const git = (...args) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
        git('init', '--initial-branch=main');
        writeFileSync(join(repo, 'notes.txt'), `${NOTES_LINES.join('\n')}\n`);
        git('add', 'notes.txt');
        git(...GIT_IDENTITY, 'commit', '-m', 'ten lines of notes');

        // Job 1: alice and bob change lines 1 and 10 at once; both merge into team, team into the job branch.
        const created = await rest('POST', '/recursion/job', workspaceTeamJob(repo));
        const jobId = created.job_id;
        jobIds.push(jobId);
        const view = await waitForJob(jobId, 'succeeded');
        const jobBranch = `cadre/${jobId.replaceAll('-', '')}/job`;
        assert(view.workspace?.job_branch === jobBranch && view.workspace?.repo === repo, `the job view's workspace is ${JSON.stringify(view.workspace)}`);
        const aliceId = nodeIdNamed(view, 'alice');
        const teamId = nodeIdNamed(view, 'team');
        const aliceBranch = nodeBranch(jobId, aliceId, 'alice');
        const teamBranch = nodeBranch(jobId, teamId, 'team');

        await gotoHash(page, `#/jobs/${jobId}?node=${aliceId}`);
        const line = await lineText(jobId);
        const wantLine = `Workspace: ${repo} · base main · merge up · job branch ${jobBranch}`;
        assert(line === wantLine, `the workspace line reads "${line}", not "${wantLine}"`);
        const pageBoot = await page.evaluate(() => window.__cadreBoot);
        await waitFor(
          page,
          (b) => document.querySelector('[data-testid="node-workspace"] [data-testid="workspace-branch"]')?.textContent === b,
          aliceBranch,
          LIVE_TIMEOUT_MS,
          async () => `alice's branch ${aliceBranch} (the section reads "${await section.innerText().catch(() => '')}")`,
        );
        const parent = await section.getByTestId('workspace-parent-branch').innerText();
        assert(parent === teamBranch, `alice's parent branch reads "${parent}", not "${teamBranch}"`);
        const files = (await section.getByRole('list', { name: 'Changed files' }).getByRole('listitem').allInnerTexts()).map((t) => t.trim());
        assert(JSON.stringify(files) === JSON.stringify(['M notes.txt']), `alice's changed files read ${JSON.stringify(files)}`);
        const status = await section.getByTestId('workspace-file').locator('abbr').getAttribute('title');
        assert(status === 'modified', `notes.txt's status reads "${status}"`);
        const diff = section.getByRole('region', { name: `Diff of ${aliceBranch}` });
        assert((await diff.evaluate((e) => e.tagName)) === 'PRE', 'the diff is not a <pre>');
        const aliceDiff = await diff.textContent();
        assert(aliceDiff.includes('\n-one\n+ONE by alice\n') && !aliceDiff.includes('bob'), `alice's diff reads:\n${aliceDiff}`);
        const added = await diff.locator('.diff-line').evaluateAll((els) => {
          const style = (e) => (e ? `${getComputedStyle(e).color}/${getComputedStyle(e).backgroundColor}` : null);
          const of = (text) => els.find((e) => e.textContent.trimEnd() === text);
          const add = of('+ONE by alice');
          return { className: add?.className ?? null, style: style(add), context: style(of(' two')) };
        });
        assert(added.className?.split(' ').includes('diff-add'), `the added line's class is "${added.className}"`);
        assert(added.context && added.style !== added.context, `the added line is coloured as a context line: ${JSON.stringify(added)}`);

        // The team's branch holds both changes.
        await page.locator(`[role="treeitem"][data-node-id="${teamId}"]`).click();
        await waitFor(
          page,
          (b) => document.querySelector('[data-testid="node-workspace"] [data-testid="workspace-branch"]')?.textContent === b,
          teamBranch,
          LIVE_TIMEOUT_MS,
          `the team's branch ${teamBranch}`,
        );
        const teamParent = await section.getByTestId('workspace-parent-branch').innerText();
        assert(teamParent === jobBranch, `the team's parent branch reads "${teamParent}", not "${jobBranch}"`);
        const teamDiff = await section.getByRole('region', { name: `Diff of ${teamBranch}` }).textContent();
        assert(teamDiff.includes('+ONE by alice\n') && teamDiff.includes('+TEN by bob\n'), `the team's diff reads:\n${teamDiff}`);
        const teamAdded = await section.getByTestId('workspace-diff').locator('.diff-add').allTextContents();
        assert(JSON.stringify(teamAdded.map((t) => t.trimEnd())) === JSON.stringify(['+ONE by alice', '+TEN by bob']), `the team's added lines are ${JSON.stringify(teamAdded)}`);

        // Job 2: fast and slow both rewrite line 1; slow's merge, second, conflicts. Its panel is open when it fails.
        const clash = await rest('POST', '/recursion/job', workspaceClashJob(repo));
        const clashId = clash.job_id;
        jobIds.push(clashId);
        let slowId = null;
        const deadline = Date.now() + JOB_TIMEOUT_MS;
        // Until slow has its branch (its worktree made): a panel opened before would read a 404.
        for (;;) {
          const v = await rest('GET', `/recursion/job/${clashId}`);
          slowId ??= (() => {
            try {
              return nodeIdNamed(v, 'slow');
            } catch {
              return null;
            }
          })();
          if (slowId) {
            const res = await fetch(`${base}/api/v1/recursion/job/${clashId}/nodes/${slowId}/diff`, { headers: { authorization: `Bearer ${key}` } });
            if (res.ok) break;
          }
          assert(Date.now() < deadline && !['failed', 'cancelled', 'succeeded'].includes(v.status), `the conflicting job is ${v.status} before slow had a branch: ${describeNodes(v)}`);
          await sleep(POLL_MS);
        }
        await gotoHash(page, `#/jobs/${clashId}?node=${slowId}`);
        await lineText(clashId);
        const failed = await waitForJob(clashId, 'failed');
        const nodes = describeNodes(failed);
        const slow = [failed.tree, ...(failed.tree.children ?? [])].find((n) => n.id === slowId);
        const fast = (failed.tree.children ?? []).find((n) => n.name === 'fast');
        const clashBranch = nodeBranch(clashId, failed.tree.id, 'clash');
        assert(fast?.status === 'succeeded' && slow?.status === 'failed', `the conflicting job's nodes: ${nodes}`);
        assert(slow.error === `merging into ${clashBranch} failed: conflict in notes.txt`, `slow's error reads "${slow.error}"`);
        const mergeFailed = section.getByTestId('workspace-merge-failed');
        await mergeFailed.waitFor({ timeout: LIVE_TIMEOUT_MS });
        assert((await mergeFailed.getAttribute('role')) === 'alert', 'the merge failure is no alert');
        const alert = await mergeFailed.locator('.workspace-merge-text').innerText();
        const wantAlert = `Merge into ${clashBranch} failed: conflict in notes.txt`;
        assert(alert === wantAlert, `the alert reads "${alert}", not "${wantAlert}"`);
        await waitFor(
          page,
          (id) => document.querySelector(`[role="treeitem"][data-node-id="${id}"]`)?.getAttribute('data-status') === 'failed',
          slowId,
          LIVE_TIMEOUT_MS,
          'slow’s card to show failed',
        );
        assert((await page.evaluate(() => window.__cadreBoot)) === pageBoot, 'the page reloaded');

        await axeView('workspace', async (p) => {
          await gotoHash(p, `#/jobs/${jobId}?node=${aliceId}`);
          await p.getByTestId('workspace-diff').waitFor({ timeout: LIVE_TIMEOUT_MS });
        });
        workspaceViews = [['workspace', `#/jobs/${jobId}?node=${aliceId}`, '[data-testid="workspace-diff"]']];
        const problems = consoleProblems.slice(problemsBefore);
        assert(problems.length === 0, `console problems on the workspace views:\n${problems.join('\n')}`);
      } finally {
        // The axe and screenshot steps show alice's diff: the branches and the repository go when the run ends.
        const removeAll = async () => {
          for (const id of jobIds) {
            // A job the step left running is cancelled first (its workspace is removed only once it has ended).
            if (workspaceViews.length === 0) await rest('DELETE', `/recursion/job/${id}`).catch(() => undefined);
            await rest('DELETE', `/recursion/job/${id}/workspace`).catch(() => undefined);
          }
          rmSync(repo, { recursive: true, force: true });
        };
        if (workspaceViews.length > 0) cleanups.push(removeAll);
        else await removeAll();
      }
    });

    // A job that stays busy while the views are checked and photographed.
    const showcase = await rest('POST', '/recursion/job', SHOWCASE_JOB).catch((err) => {
      console.log(`note: showcase job refused: ${err.message}`);
      return null;
    });
    await sleep(1500);

    const views = [
      ['hierarchy', '#/', '[role="treeitem"]'],
      ['jobs', '#/jobs', 'table.jobs-table tbody tr'],
      ['job', `#/jobs/${showcase?.job_id ?? liveJobId}`, '[role="treeitem"]'],
      ['submit', '#/submit', 'textarea'],
      ['resources', '#/resources', '[role="meter"]'],
    ];
    if (waitingApprovalJob) {
      views.push(['approvals', '#/approvals', 'article.approval-card']);
      views.push(['approvals-decided', '#/approvals?show=decided', 'article.approval-card']);
    }
    if (waitingEscalationJob) views.push(['approvals-escalation', '#/approvals', 'article.approval-card[data-kind="escalation"]']);
    if (heldJob) {
      views.push(['alerts', '#/alerts', 'article.alert-card[data-open="true"]']);
      views.push(['held-job', `#/jobs/${heldJob.job_id}`, '[data-testid="held-banner"]']);
    }
    if (alertResolved) views.push(['alerts-resolved', '#/alerts?show=resolved', 'article.alert-card']);
    if (orgReady) views.push(['org', '#/org?agent=dev-a', '[data-testid="agent-task"]']);
    views.push(...mailViews);
    views.push(...workspaceViews);
    if (bigJobId) {
      views.push(['overview', `#/jobs/${bigJobId}?view=overview`, 'circle.ov-node']);
      views.push(['timeline', `#/jobs/${bigJobId}?view=timeline`, 'rect.tl-bar']);
    }

    await step('e. axe: no serious or critical violations on any view', async () => {
      const axeContext = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
      await axeContext.addInitScript((k) => window.sessionStorage.setItem('cadre.apiKey', k), key);
      const axePage = await axeContext.newPage();
      watch(axePage, 'axe');
      const failures = [];
      for (const [view, hash, ready] of views) {
        await axePage.goto(`${base}/${hash}`);
        await axePage.locator(ready).first().waitFor({ timeout: LIVE_TIMEOUT_MS });
        if (view === 'job') {
          await axePage.locator('[role="treeitem"]').first().click();
          await axePage.locator('.node-panel').waitFor();
        }
        if (view === 'submit') {
          await axePage.getByRole('button', { name: 'Team, 3 levels (YAML)' }).click();
          await axePage.getByRole('button', { name: 'Validate' }).click();
          await axePage.getByTestId('estimate-nodes').waitFor();
        }
        if (view === 'approvals-escalation') await openRetryTerms(axePage);
        await sleep(300);
        try {
          await runAxe(axePage, view);
        } catch (err) {
          failures.push(err.message);
        }
      }
      await axeContext.close();
      assert(failures.length === 0, failures.join('; '));
    });

    await step('g. screenshots of every view at 1440×900 and 390×844', async () => {
      for (const [view, hash, ready] of views) {
        await gotoHash(page, hash);
        await page.locator(ready).first().waitFor({ timeout: LIVE_TIMEOUT_MS });
        if (view === 'job') await page.locator('[role="treeitem"]').first().click();
        await sleep(400);
        const prepare = {
          overview: showNodes,
          timeline: showNodes,
          'dead-letters': showNodes,
          'approvals-escalation': openRetryTerms,
          mailbox: (p) => p.evaluate(() => document.querySelector('[data-testid="mailbox"]')?.scrollIntoView({ block: 'start' })),
          workspace: (p) => p.evaluate(() => document.querySelector('[data-testid="node-workspace"]')?.scrollIntoView({ block: 'start' })),
        }[view];
        await shoot(page, view, prepare);
      }
      console.log(`      screenshots in ${SCREENSHOT_DIR}`);
    });

    await step('sign out returns to the key prompt', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').waitFor({ timeout: LIVE_TIMEOUT_MS });
      const stored = await page.evaluate(() => window.sessionStorage.getItem('cadre.apiKey'));
      assert(stored === null, 'the key is still stored');
    });

    if (showcase) await rest('DELETE', `/recursion/job/${showcase.job_id}`).catch(() => undefined);
    if (waitingApprovalJob) await rest('DELETE', `/recursion/job/${waitingApprovalJob.job_id}`).catch(() => undefined);
    if (waitingEscalationJob) await rest('DELETE', `/recursion/job/${waitingEscalationJob.job_id}`).catch(() => undefined);
    if (heldJob) await rest('DELETE', `/recursion/job/${heldJob.job_id}`).catch(() => undefined);

    await step('f. no console errors or warnings, no page errors', async () => {
      assert(consoleProblems.length === 0, `\n${consoleProblems.join('\n')}`);
    });
  } finally {
    if (browser) await browser.close().catch(() => undefined);
    for (const cleanup of cleanups) await cleanup().catch((err) => console.log(`note: clean-up failed: ${err.message}`));
    if (server) {
      if (results.some((r) => !r.ok)) console.log(`--- server log (tail) ---\n${server.logTail()}`);
      await server.stop();
    }
    if (llm) await llm.stop();
  }
}

let failed = false;
const SIGNAL_EXIT_CODE = 130;
const cleanupOnSignal = () => {
  console.log('interrupted: stopping the server');
  if (serverPid) {
    try {
      process.kill(-serverPid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  process.exit(SIGNAL_EXIT_CODE);
};
process.once('SIGINT', cleanupOnSignal);
process.once('SIGTERM', cleanupOnSignal);
try {
  await main();
} catch (err) {
  failed = true;
  console.log(`FAIL  setup: ${err?.stack ?? err}`);
  if (err?.stop) await err.stop();
}
const passed = results.filter((r) => r.ok).length;
console.log(`\n${passed}/${results.length} steps passed`);
process.exit(failed || results.some((r) => !r.ok) ? 1 : 0);
