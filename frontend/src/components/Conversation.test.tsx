// Tests of the node panel's conversation: turns with their facts, tool calls naming the
// spawned children, tool results, long texts folded, errors, and a refetch per new call.
import { screen, waitFor, within } from '@testing-library/react';
import axe from 'axe-core';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { Conversation } from './Conversation';
import { renderWithServices } from '../test/services';
import { JOB } from '../test/fixtures';
import { LLM_CALLS, LONG_PROMPT } from '../test/llmCalls';

/** The conversation with a button standing for the node's next call. */
function Growing() {
  const [calls, setCalls] = useState(1);
  return (
    <>
      <button type="button" onClick={() => setCalls((n) => n + 1)}>
        another call
      </button>
      <Conversation jobId={JOB} nodeId="planner" calls={calls} />
    </>
  );
}

/** axe over a jsdom page takes seconds on a busy machine. */
const AXE_TIMEOUT_MS = 30_000;

const ROUTE = `/api/v1/recursion/job/${JOB}/nodes/planner/llm-calls`;

describe('Conversation', () => {
  it('shows each call as a turn, with tool calls, results and long texts folded', async () => {
    const user = userEvent.setup();
    renderWithServices(<Conversation jobId={JOB} nodeId="planner" calls={4} />, (_m, url) =>
      url === ROUTE ? { status: 200, body: LLM_CALLS } : { status: 404, body: {} },
    );
    const turns = await screen.findAllByRole('listitem');
    expect(turns).toHaveLength(4);
    expect(screen.getByRole('heading', { name: 'Attempt 1' })).toBeTruthy();
    const first = within(turns[0]);
    expect(first.getByRole('heading', { name: 'Call 1 · execute' })).toBeTruthy();
    expect(turns[0].textContent).toContain('turn 0 · qwen2.5:7b (local) · 1,000 in / 100 out · $0.0010 · 850 ms · HTTP 200');
    expect(turns[0].textContent).toContain('Tool call spawn_children: 2 children — research, write');
    expect(turns[0].textContent).toContain('I will split the work.');
    // The long prompt is folded: its summary shows the start, the whole text once opened.
    const prompt = turns[0].querySelector('details') as HTMLDetailsElement;
    expect(prompt.open).toBe(false);
    expect(prompt.querySelector('summary')?.textContent).toContain('Prompt Plan the release notes for version 2.4.…');
    await user.click(prompt.querySelector('summary') as HTMLElement);
    expect(prompt.open).toBe(true);
    expect(prompt.querySelector('pre')?.textContent).toBe(LONG_PROMPT);
    expect(turns[1].textContent).toContain('1,500 in / 100 out / 900 cached');
    expect(turns[1].textContent).toContain('Tool result');
    expect(turns[1].textContent).not.toContain('Prompt');
    expect(within(turns[2]).getByRole('heading', { name: 'Call 3 · repair' })).toBeTruthy();
    expect(turns[2].textContent).toContain('is a required property');
    expect(turns[3].textContent).toContain('HTTP 429 · 4 tries');
    expect(turns[3].textContent).toContain('Error: rate limited: slow down');
    expect(turns[3].textContent).toContain('Request (cut at the size limit)');
  });

  it('passes axe, folded and opened', async () => {
    const user = userEvent.setup();
    renderWithServices(<Conversation jobId={JOB} nodeId="planner" calls={4} />, () => ({ status: 200, body: LLM_CALLS }));
    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(4));
    // jsdom has no layout: contrast is left to the browser runs.
    const check = async () => {
      const report = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
      return report.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    };
    expect(await check()).toEqual([]);
    for (const summary of document.querySelectorAll('summary')) await user.click(summary);
    expect(await check()).toEqual([]);
  }, AXE_TIMEOUT_MS);

  it('shows usage a worker reported as such, without turn, time or status', async () => {
    const report = { ...LLM_CALLS.calls[0], id: 'r1', purpose: 'report', provider: 'reported', http_status: null, tries: 0, latency_ms: 0, request: null, reply: null };
    renderWithServices(<Conversation jobId={JOB} nodeId="planner" calls={1} />, () => ({ status: 200, body: { calls: [report] } }));
    expect(await screen.findByRole('heading', { name: 'Reported usage' })).toBeTruthy();
    expect(screen.getByRole('listitem').textContent).toBe('Call 1 · reportqwen2.5:7b (reported) · 1,000 in / 100 out · $0.0010');
  });

  it('fetches again when the node makes another call, and says when the route fails', async () => {
    const user = userEvent.setup();
    let gets = 0;
    renderWithServices(<Growing />, () => {
      gets += 1;
      return gets === 1
        ? { status: 200, body: { calls: LLM_CALLS.calls.slice(0, 1) } }
        : { status: 500, body: { type: 'x', title: 'Internal Server Error', status: 500, detail: 'store down' } };
    });
    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(1));
    await user.click(screen.getByRole('button', { name: 'another call' }));
    expect(await screen.findByText(/store down/)).toBeTruthy();
    expect(gets).toBe(2);
  });
});
