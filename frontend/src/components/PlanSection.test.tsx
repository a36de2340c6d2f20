// Tests of the Plan section: the project, its components, constraints and criteria, the
// intent, the questions and answers, and the assignments by manager and agent, whose names
// select their nodes when the tree holds them.
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { PlanSection } from './PlanSection';
import { FLAT, PAUSED, PLANNED } from '../test/decomposition';

const IDS: Record<string, string> = { database: 'n-db', 'table_creation-1': 'n-t1' };
const find = (name: string) => IDS[name];

describe('PlanSection', () => {
  it('shows the plan, the intent, the questions and who got which tasks', () => {
    render(<PlanSection result={PLANNED} find={find} onSelect={() => undefined} />);
    const section = screen.getByRole('region', { name: 'Plan' });
    expect(section.textContent).toContain('Project: Chirp');
    expect(screen.getByTestId('plan-intent').textContent).toBe('Intent: project (confidence 0.90) — A whole application is asked for');
    const components = screen.getByRole('list', { name: 'Components' });
    expect(components.textContent).toContain('PostgreSQL (database)');
    expect(components.textContent).toContain('users, posts tables');
    expect(components.textContent).toContain('JWT auth');
    expect(screen.getByRole('list', { name: 'Technical constraints' }).textContent).toBe('Posts are at most 280 characters');
    expect(screen.getByRole('list', { name: 'Success criteria' }).textContent).toBe('Users can post and read a feed');
    expect(section.textContent).toContain('Q: Which city?');
    expect(section.textContent).toContain('A: Lyon');
    const managers = screen.getByRole('list', { name: 'Managers' });
    expect(managers.textContent).toContain('Database manager');
    const tasks = screen.getByRole('list', { name: 'Tasks of table_creation-1' });
    expect(within(tasks).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Create Users table', 'Create Posts table']);
    expect(screen.getByRole('list', { name: 'Agents of database' }).textContent).toContain('Table creation (part 2)');
  });

  it('selects the node an agent or manager name stands for, and shows the others as text', async () => {
    const user = userEvent.setup();
    const onSelect = vi.fn();
    render(<PlanSection result={PLANNED} find={find} onSelect={onSelect} />);
    await user.click(screen.getByRole('button', { name: 'Select node table_creation-1' }));
    await user.click(screen.getByRole('button', { name: 'Select node database' }));
    expect(onSelect.mock.calls).toEqual([['n-t1'], ['n-db']]);
    // Not in the tree: plain text.
    expect(screen.queryByRole('button', { name: 'Select node table_creation-2' })).toBeNull();
    expect(screen.getByRole('list', { name: 'Agents of database' }).textContent).toContain('table_creation-2');
  });

  it('shows names as plain text without a way to select', () => {
    render(<PlanSection result={PLANNED} />);
    expect(screen.queryAllByRole('button')).toHaveLength(0);
    expect(screen.getByRole('list', { name: 'Managers' }).textContent).toContain('table_creation-1');
  });

  it('lists agents without managers when the assignments are flat', () => {
    render(<PlanSection result={FLAT} />);
    expect(screen.queryByRole('list', { name: 'Managers' })).toBeNull();
    const agents = screen.getByRole('list', { name: 'Agents' });
    expect(agents.textContent).toContain('writer-1 Writer');
    expect(agents.textContent).toContain('Write the README');
  });

  it('shows a question still waiting, before any plan', () => {
    render(<PlanSection result={PAUSED} />);
    const section = screen.getByRole('region', { name: 'Plan' });
    expect(section.textContent).toContain('Q: Which database should the app use?');
    expect(section.textContent).toContain('A: waiting for an answer');
    expect(section.textContent).toContain('No plan yet.');
  });
});
