// Small sample jobs the Submit view can fill in with one click.

export interface Example {
  label: string;
  text: string;
}

const HELLO = `{
  "request": "Say hello, then wait a moment",
  "plan": {
    "name": "hello",
    "children": [
      {"name": "greet", "run": {"type": "echo", "value": {"greeting": "hello, world"}}},
      {"name": "pause", "depends_on": ["greet"], "run": {"type": "sleep", "ms": 500}}
    ]
  },
  "labels": {"example": "hello"}
}
`;

const TEAM = `# A three-level team: a CTO, two PMs, sleeping workers under each.
request: Build and test, three levels deep
labels:
  example: team
plan:
  name: cto
  children:
    - name: build
      children:
        - {name: compile, run: {type: sleep, ms: 600}}
        - {name: lint, run: {type: sleep, ms: 400}}
    - name: test
      depends_on: [build]
      children:
        - {name: unit, run: {type: sleep, ms: 500}}
        - {name: integration, run: {type: sleep, ms: 700}}
        - {name: docs, run: {type: echo, value: ok}}
`;

const FLAKY = `# A worker that fails twice, then succeeds on its third attempt.
request: Retry a flaky step
labels:
  example: flaky
plan:
  name: root
  retry: {max_attempts: 3, initial_backoff_ms: 300}
  children:
    - {name: flaky, run: {type: fail, message: "not yet", times: 2}}
    - {name: steady, run: {type: sleep, ms: 800}}
`;

const COMMAND = `{
  "request": "Run a command and keep its output",
  "plan": {
    "name": "shell",
    "children": [
      {"name": "hello", "run": {"type": "command", "argv": ["sh", "-c", "echo hello from cadre; echo oops >&2"]}}
    ]
  },
  "labels": {"example": "command"}
}
`;

export const EXAMPLES: readonly Example[] = [
  { label: 'Hello (JSON)', text: HELLO },
  { label: 'Team, 3 levels (YAML)', text: TEAM },
  { label: 'Flaky retries (YAML)', text: FLAKY },
  { label: 'Command with logs (JSON)', text: COMMAND },
];
