// Tests of the mailboxes in the dashboard (issue 17): the node panel's Mailbox (the messages to
// the node and those it sent, newest first, with priority, sender, thread, state and a clipped
// body; hidden for a node with none; read again after the message frames that concern it,
// never through the receive route), its Send a message form (a JSON body, text that is not
// JSON sent as a string, a refusal's detail shown) and the job's Dead letters list.
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { MessageView, NodeView } from '../api/types';
import { TreeModel } from '../tree/model';
import { DeadLetters } from './DeadLetters';
import { NodePanel } from './NodePanel';
import { frame, JOB, message, MSG_AT, node } from '../test/fixtures';
import { renderWithServices, type Handler } from '../test/services';

const LIST = `/api/v1/recursion/job/${JOB}/messages`;
const LONG_BODY = { text: 'x'.repeat(200) };

/** root → a (a1 running, a2 running), b (b1 succeeded) */
function tree(): NodeView {
  return node('root', 0, [node('a', 1, [node('a1', 2, [], 'running'), node('a2', 2, [], 'running')], 'running'), node('b', 1, [node('b1', 2, [], 'succeeded')], 'running')], 'running');
}

const MESSAGES: MessageView[] = [
  message({ id: 'm-urgent', priority: 9, thread_id: 'schema', body: { text: 'the posts table changed' } }),
  message({ id: 'm-other', to: 'a2', created_ms: MSG_AT + 1000 }),
  message({ id: 'm-sent', to: 'a2', from: 'a1', sender: 'node:a1', state: 'delivered', deliveries: 1, created_ms: MSG_AT + 2000, body: 'ok' }),
  message({ id: 'm-long', priority: 1, state: 'acknowledged', deliveries: 2, from: 'a2', sender: 'node:a2', created_ms: MSG_AT + 3000, body: LONG_BODY }),
];

function show(nodeId: string, handler: Handler = () => ({ status: 200, body: { messages: MESSAGES } })) {
  const urls: string[] = [];
  const model = TreeModel.fromJobTree(JOB, tree());
  const utils = renderWithServices(
    <NodePanel model={model} jobId={JOB} nodeId={nodeId} loadResult={vi.fn(async () => null)} onCancelSubtree={() => undefined} />,
    (method, url, body) => {
      urls.push(`${method} ${url}`);
      if (url.includes('/logs')) return { status: 200, body: { node_id: nodeId, status: 'succeeded', available: false, stdout: '', stderr: '', exit_code: null } };
      return handler(method, url, body);
    },
  );
  return { ...utils, urls, lists: () => urls.filter((u) => u.startsWith(`GET ${LIST}`)).length };
}

const items = (within_: HTMLElement) => within(within_).getAllByTestId('message');

describe('Mailbox', () => {
  it('lists the messages to the node and those it sent, newest first, with priority, sender, thread, state and body', async () => {
    const user = userEvent.setup();
    const { urls } = show('a1');
    const mailbox = await screen.findByRole('region', { name: 'Mailbox' });
    expect(items(mailbox).map((li) => `${li.dataset.messageId}:${li.dataset.direction}`)).toEqual(['m-long:received', 'm-sent:sent', 'm-urgent:received']);
    expect(within(mailbox).getByTestId('mailbox-counts').textContent).toBe('2 received, 1 sent');
    const [long, sent, urgent] = items(mailbox);
    expect(urgent.dataset.urgent).toBe('true');
    expect(within(urgent).getByTestId('message-priority').textContent).toBe('‼ priority 9 (urgent)');
    expect(within(urgent).getByTestId('message-who').textContent).toBe('from key ops');
    expect(within(urgent).getByTestId('message-thread').textContent).toBe('schema');
    expect(within(urgent).getByTestId('message-state').textContent).toBe('pending, 0 deliveries');
    expect(within(urgent).getByTestId('message-body').textContent).toBe('{"text":"the posts table changed"}');
    expect(within(sent).getByTestId('message-who').textContent).toBe('sent to a2');
    expect(within(sent).getByTestId('message-state').textContent).toBe('delivered, 1 delivery');
    expect(long.dataset.urgent).toBe('false');
    expect(within(long).getByTestId('message-who').textContent).toBe('from node a2');
    expect(within(long).getByTestId('message-body').textContent).toMatch(/^\{"text":"x+…$/);
    await user.click(within(long).getByRole('button', { name: 'Show all' }));
    expect(within(long).getByTestId('message-body').textContent).toBe(JSON.stringify(LONG_BODY, null, 2));
    expect(within(long).getByRole('button', { name: 'Show less' }).getAttribute('aria-expanded')).toBe('true');
    // Only the job's list is read: the receive route would deliver the messages.
    expect(urls.every((u) => u === `GET ${LIST}`)).toBe(true);
  });

  it('is hidden for a node with no messages; a running one still offers the form, an ended one nothing', async () => {
    const first = show('b');
    await waitFor(() => expect(first.lists()).toBe(1));
    expect(screen.queryByRole('region', { name: 'Mailbox' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Send a message' })).toBeTruthy();
    first.unmount();
    const ended = show('b1');
    await waitFor(() => expect(ended.lists()).toBe(1));
    expect(screen.queryByRole('region', { name: 'Mailbox' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Send a message' })).toBeNull();
  });

  it('is read again after a message frame of the job that concerns the node, not after others', async () => {
    let reads = 0;
    const { bus } = show('a1', () => {
      reads += 1;
      const added = message({ id: 'm-new', priority: 7, created_ms: MSG_AT + 9000 });
      return { status: 200, body: { messages: reads === 1 ? MESSAGES : [...MESSAGES, added] } };
    });
    const mailbox = await screen.findByRole('region', { name: 'Mailbox' });
    act(() => {
      bus.emit(frame('message_sent', { message_id: 'x', to: 'b1', from: null, sender: 'ops', thread_id: null, priority: 5 }));
      bus.emit(frame('message_sent', { message_id: 'y', to: 'a1', from: null }, { job_id: 'another-job' }));
      bus.emit(frame('worker_started', { worker_id: 'a1', attempt: 1 }));
    });
    await new Promise((r) => setTimeout(r, 700));
    expect(reads).toBe(1);
    act(() => {
      bus.emit(frame('message_sent', { message_id: 'm-new', to: 'a1', from: null, sender: 'ops', thread_id: null, priority: 7 }));
      bus.emit(frame('message_delivered', { message_id: 'm-urgent', to: 'a1', deliveries: 1 }));
    });
    await waitFor(() => expect(items(mailbox)[0].dataset.messageId).toBe('m-new'), { timeout: 8000 });
    expect(reads).toBe(2);
  });
});

describe('Send a message', () => {
  const stored = message({ id: 'm-sent-now', to: 'a1', priority: 7, thread_id: 'plan', body: { a: [1, 2] }, created_ms: MSG_AT + 5000 });

  function sending(answer: (body: unknown) => { status: number; body: unknown }) {
    const posts: unknown[] = [];
    const utils = show('a1', (method, _url, body) => {
      if (method === 'POST') {
        posts.push(body);
        return answer(body);
      }
      return { status: 200, body: { messages: MESSAGES } };
    });
    return { ...utils, posts };
  }

  async function open() {
    const user = userEvent.setup();
    await screen.findByRole('region', { name: 'Mailbox' });
    await user.click(screen.getByRole('button', { name: 'Send a message' }));
    return { user, form: screen.getByRole('form', { name: 'Send a message to a1' }) };
  }

  it('sends a JSON body with the chosen priority and thread, and shows the message sent', async () => {
    const { posts } = sending(() => ({ status: 201, body: stored }));
    const { user, form } = await open();
    expect((within(form).getByLabelText('Priority') as HTMLSelectElement).value).toBe('5');
    await user.selectOptions(within(form).getByLabelText('Priority'), '7');
    await user.type(within(form).getByLabelText('Thread (optional)'), 'plan');
    await user.click(within(form).getByLabelText('Body'));
    await user.paste('{"a": [1, 2]}');
    expect(within(form).getByTestId('send-message-hint').textContent).toBe('Sent as JSON.');
    await user.click(within(form).getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(posts).toEqual([{ to: 'a1', priority: 7, thread_id: 'plan', body: { a: [1, 2] } }]));
    expect((await within(form).findByRole('status')).textContent).toBe('Sent to a1 with priority 7.');
    expect((within(form).getByLabelText('Body') as HTMLTextAreaElement).value).toBe('');
    const mailbox = screen.getByRole('region', { name: 'Mailbox' });
    expect(items(mailbox)[0].dataset.messageId).toBe('m-sent-now');
  });

  it('sends text that is not JSON as a string, with the default priority and no thread', async () => {
    const { posts } = sending((body) => ({ status: 201, body: { ...stored, ...(body as object), thread_id: null } }));
    const { user, form } = await open();
    await user.click(within(form).getByLabelText('Body'));
    await user.paste('please {stop} now');
    expect(within(form).getByTestId('send-message-hint').textContent).toBe('Not JSON: sent as a string.');
    await user.click(within(form).getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(posts).toEqual([{ to: 'a1', priority: 5, body: 'please {stop} now' }]));
  });

  it('shows a refusal as its problem’s detail, keeping what was typed', async () => {
    const forbidden = { type: 'urn:cadre:problem:forbidden', title: 'Forbidden', status: 403, detail: 'this key lacks the write scope' };
    sending(() => ({ status: 403, body: forbidden }));
    const { user, form } = await open();
    await user.click(within(form).getByLabelText('Body'));
    await user.paste('hi');
    await user.click(within(form).getByRole('button', { name: 'Send' }));
    const refusal = await within(form).findByRole('alert');
    expect(refusal.textContent).toBe('this key lacks the write scope');
    expect((within(form).getByLabelText('Body') as HTMLTextAreaElement).value).toBe('hi');
    expect(within(form).queryByRole('status')).toBeNull();
  });
});

describe('DeadLetters', () => {
  const names: Record<string, string> = { a1: 'writer', a: 'lead' };

  it('lists the dead letters newest first: recipient (selecting its node), reason, deliveries, sender, thread, body', async () => {
    const user = userEvent.setup();
    const onSelect = vi.fn();
    const dead = [
      message({ id: 'd-ttl', state: 'dead', dead_reason: 'ttl', thread_id: 'plan', body: 'late' }),
      message({ id: 'd-max', to: 'a', state: 'dead', dead_reason: 'max_deliveries', deliveries: 5, sender: 'node:a1', from: 'a1', created_ms: MSG_AT + 1000 }),
    ];
    renderWithServices(<DeadLetters messages={dead} error={null} nameOf={(id) => names[id]} onSelect={onSelect} />, () => ({ status: 404 }));
    const section = screen.getByRole('region', { name: 'Dead letters' });
    const [max, ttl] = items(section);
    expect([max.dataset.messageId, ttl.dataset.messageId]).toEqual(['d-max', 'd-ttl']);
    expect(within(max).getByTestId('message-who').textContent).toBe('to lead, from node writer');
    expect(within(max).getByTestId('message-state').textContent).toBe('dead (max_deliveries), 5 deliveries');
    expect(within(max).getByTestId('message-reason').textContent).toBe(' — delivered too many times without an acknowledgement');
    expect(within(ttl).getByTestId('message-reason').dataset.reason).toBe('ttl');
    expect(within(ttl).getByTestId('message-thread').textContent).toBe('plan');
    expect(within(ttl).getByTestId('message-body').textContent).toBe('"late"');
    await user.click(within(ttl).getByRole('button', { name: 'Select node writer' }));
    expect(onSelect).toHaveBeenCalledWith('a1');
  });

  it('says when there are none, and shows an error', () => {
    const { rerender } = renderWithServices(<DeadLetters messages={[]} error={null} nameOf={() => undefined} onSelect={vi.fn()} />, () => ({ status: 404 }));
    expect(screen.getByTestId('dead-letters-none').textContent).toBe('No dead letters.');
    rerender(<DeadLetters messages={null} error="Not Found (404): job x" nameOf={() => undefined} onSelect={vi.fn()} />);
    expect(screen.getByRole('alert').textContent).toBe('Not Found (404): job x');
  });
});
