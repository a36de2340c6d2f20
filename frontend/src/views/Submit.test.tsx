// Tests of the Submit view: validation errors listed at their paths, the estimate, YAML and
// JSON parse errors with line/column, 422 problems, and navigation after a run.
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { Submit } from './Submit';
import { renderWithServices } from '../test/services';

const INVALID_REPORT = {
  valid: false,
  errors: [
    { path: 'plan.children[0].depends_on[0]', message: "no sibling named 'zz'" },
    { path: 'plan.children[0]', message: 'a node needs `children` or `run`' },
  ],
  warnings: [],
  estimate: { nodes: 2, leaves: 0, max_depth: 1, workers_by_depth: {} },
  capacity: { available_by_depth: { '0': 10 } },
};

const VALID_REPORT = {
  valid: true,
  errors: [],
  warnings: [],
  estimate: { nodes: 3, leaves: 2, max_depth: 1, workers_by_depth: { '1': 2 } },
  capacity: { available_by_depth: { '0': 10 } },
};

async function typeSpec(text: string) {
  const user = userEvent.setup();
  const area = screen.getByLabelText('Job specification (JSON or YAML)');
  await user.clear(area);
  await user.click(area);
  await user.paste(text);
  return user;
}

describe('Submit view', () => {
  it('shows validation errors at their paths', async () => {
    const seen: unknown[] = [];
    renderWithServices(<Submit />, (method, url, body) => {
      seen.push({ method, url, body });
      return { status: 200, body: INVALID_REPORT };
    });
    const user = await typeSpec('request: x\nplan:\n  name: r\n  children:\n    - {name: a, depends_on: [zz]}\n');
    await user.click(screen.getByRole('button', { name: 'Validate' }));
    const items = await screen.findAllByRole('listitem');
    expect(items.map((li) => li.textContent)).toEqual([
      "plan.children[0].depends_on[0]: no sibling named 'zz'",
      'plan.children[0]: a node needs `children` or `run`',
    ]);
    expect(screen.getByRole('heading', { name: /Invalid: 2 errors/ })).toBeTruthy();
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/recursion/validate',
      body: { request: 'x', plan: { name: 'r', children: [{ name: 'a', depends_on: ['zz'] }] } },
    });
  });

  it('shows the estimate of a valid job', async () => {
    renderWithServices(<Submit />, () => ({ status: 200, body: VALID_REPORT }));
    const user = await typeSpec('{"request": "x", "plan": {"name": "r", "children": []}}');
    await user.click(screen.getByRole('button', { name: 'Validate' }));
    expect(await screen.findByRole('heading', { name: /Valid/ })).toBeTruthy();
    expect(screen.getByTestId('estimate-nodes').textContent).toBe('3');
    expect(screen.getByText('depth 1: 2')).toBeTruthy();
  });

  it('shows a YAML parse error with its line and column, without calling the API', async () => {
    const { fetchImpl } = renderWithServices(<Submit />, () => ({ status: 200, body: VALID_REPORT }));
    const user = await typeSpec('request: x\nplan:\n  name: r\n   children: [\n');
    await user.click(screen.getByRole('button', { name: 'Validate' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('YAML line 3, column 9: Nested mappings are not allowed in compact mappings');
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it('shows a JSON parse error with its line and column', async () => {
    renderWithServices(<Submit />, () => ({ status: 200, body: VALID_REPORT }));
    const user = await typeSpec('{\n  "request": "x",\n  "plan": {,}\n}');
    await user.click(screen.getByRole('button', { name: 'Run' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/JSON line 3, column 12/);
  });

  it('lists the paths of a 422 problem on Run', async () => {
    renderWithServices(<Submit />, () => ({
      status: 422,
      body: {
        type: 'urn:cadre:problem:validation-error',
        title: 'Unprocessable Entity',
        status: 422,
        detail: 'the request is invalid',
        errors: [{ path: 'plan.bogus', message: 'unknown field `bogus`' }],
      },
    }));
    const user = await typeSpec('{"request": "x", "plan": {"name": "r", "bogus": 1}}');
    await user.click(screen.getByRole('button', { name: 'Run' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Unprocessable Entity (422): the request is invalid');
    expect(alert.textContent).toContain('plan.bogus: unknown field `bogus`');
  });

  it('navigates to the new job after Run', async () => {
    renderWithServices(<Submit />, () => ({
      status: 202,
      body: { job_id: 'abc-123', status: 'running', root_node_id: 'r', created_at: 'now' },
    }));
    const user = await typeSpec('{"request": "x", "plan": {"name": "r", "run": {"type": "noop"}}}');
    await user.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(window.location.hash).toBe('#/jobs/abc-123'));
  });
});
