// Tests of plan approvals in the approval pieces: a card names the kind ("a model’s plan"),
// asks to approve the plan before any of it runs, shows the project, the components (name
// and type), the success criteria and the children it placed (a manager with its agents),
// and approves or rejects it; a context without a plan; the job's waiting list sums it up in
// a line; the node panel's section shows it, its children selecting their nodes.
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { TreeModel } from '../tree/model';
import { ApprovalCard } from './ApprovalCard';
import { ApprovalsWaiting } from './ApprovalsWaiting';
import { NodePanel } from './NodePanel';
import { JOB, node, planApproval } from '../test/fixtures';
import { renderWithServices } from '../test/services';

const NOW = Date.parse('2026-11-21T19:21:41.000Z');
const ROUTE = '/api/v1/approvals/ap-p/decision';

describe('a plan approval’s card', () => {
  it('says it is a model’s plan, what it asks, and shows the plan and the children it placed', () => {
    renderWithServices(<ApprovalCard approval={planApproval()} now={NOW} onDecided={vi.fn()} />, () => ({ status: 404, body: {} }));
    const article = screen.getByRole('article', { name: 'app a model’s plan' });
    expect(article.dataset.kind).toBe('plan');
    expect(within(article).getByTestId('approval-kind').textContent).toBe('a model’s plan');
    expect(within(article).getByTestId('approval-prompt').textContent).toBe('Approve the plan before any of it runs (no prompt given).');
    expect(article.textContent).toContain('AsksApprove the plan before any of it runs');
    expect(within(article).getByRole('heading', { name: 'Plan to approve' })).toBeTruthy();
    expect(within(article).getByTestId('approval-plan-project').textContent).toBe('Chirp');
    const items = (name: string) => within(within(article).getByRole('list', { name })).getAllByRole('listitem').map((li) => li.textContent);
    expect(items('Components')).toEqual(['Posts store (database)', 'API (backend)']);
    expect(items('Success criteria')).toEqual(['A post can be created', 'Posts list newest first']);
    expect(items('Children it places')).toEqual(['database (agents: table_creation)', 'backend (agents: api_endpoints)']);
    // The requirements and constraints stay in the node's Plan section.
    expect(article.textContent).not.toContain('Posts table');
    expect(within(article).getAllByRole('button').map((b) => b.textContent)).toEqual(['Approve', 'Reject']);
  });

  it('reads a context without a plan or assignments, and flat children', () => {
    renderWithServices(
      <ApprovalCard approval={planApproval({ prompt: 'Go ahead?', context: { plan: null, assignments: null, children: ['writer', 'checker'] } })} now={NOW} onDecided={vi.fn()} />,
      () => ({ status: 404, body: {} }),
    );
    const plan = screen.getByTestId('approval-plan');
    expect(screen.getByTestId('approval-prompt').textContent).toBe('Go ahead?');
    expect(within(plan).getByTestId('approval-plan-project').textContent).toBe('not named');
    expect(plan.textContent).toContain('Componentsnone given');
    expect(plan.textContent).toContain('Success criterianone given');
    expect(within(plan).getByRole('list', { name: 'Children it places' }).textContent).toBe('writerchecker');
  });

  it('rejects it with a comment', async () => {
    const user = userEvent.setup();
    const posts: unknown[] = [];
    const onDecided = vi.fn();
    const rejected = planApproval({ state: 'rejected', may_decide: false });
    renderWithServices(<ApprovalCard approval={planApproval()} now={NOW} onDecided={onDecided} />, (method, url, body) => {
      if (method === 'POST' && url === ROUTE) posts.push(body);
      return { status: 200, body: rejected };
    });
    await user.type(screen.getByLabelText('Comment (optional)'), 'too big');
    await user.click(screen.getByRole('button', { name: 'Reject' }));
    await waitFor(() => expect(onDecided).toHaveBeenCalledWith(rejected, 'reject'));
    expect(posts).toEqual([{ decision: 'reject', comment: 'too big' }]);
  });
});

describe('ApprovalsWaiting with a plan approval', () => {
  it('sums the plan up in a line, after its prompt when it has one', () => {
    const many = { plan: null, assignments: null, children: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] };
    render(
      <ApprovalsWaiting
        approvals={[planApproval(), planApproval({ id: 'ap-q', node_id: 'big', node_name: 'big', prompt: 'Huge?', context: many })]}
        onSelect={vi.fn()}
      />,
    );
    expect([...screen.getByRole('region', { name: 'Waiting for approval' }).querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'app (a model’s plan): project Chirp, 2 components; places database, backend — yours to decide',
      'big (a model’s plan): Huge? (places a, b, c, d, e and 2 more) — yours to decide',
    ]);
  });
});

describe('NodePanel plan approval', () => {
  it('shows the plan held for approval, its children selecting their nodes, and approves it there', async () => {
    const user = userEvent.setup();
    const onSelect = vi.fn();
    const onApprovalDecided = vi.fn();
    const tree = node('root', 0, [node('app', 1, [node('database', 2), node('backend', 2)], 'awaiting_approval')], 'running');
    const model = TreeModel.fromJobTree(JOB, tree);
    const approved = planApproval({ state: 'approved', may_decide: false });
    renderWithServices(
      <NodePanel
        model={model}
        jobId={JOB}
        nodeId="app"
        loadResult={async () => undefined}
        onCancelSubtree={() => undefined}
        onSelect={onSelect}
        approvals={[planApproval()]}
        onApprovalDecided={onApprovalDecided}
      />,
      (method, url) => (method === 'POST' && url === ROUTE ? { status: 200, body: approved } : { status: 404, body: {} }),
    );
    const section = screen.getByRole('region', { name: 'Approval' });
    expect(within(section).getByRole('heading', { name: 'Request: a model’s plan' })).toBeTruthy();
    expect(within(section).getByRole('heading', { name: 'Plan to approve' }).tagName).toBe('H4');
    expect(within(section).getByTestId('approval-plan-project').textContent).toBe('Chirp');
    await user.click(within(section).getByRole('button', { name: 'Select node backend' }));
    expect(onSelect).toHaveBeenCalledWith('backend');
    await user.click(within(section).getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(onApprovalDecided).toHaveBeenCalledWith(approved, 'approve'));
  });
});
