// Tests of the readers of a decomposing node's result and a worker's validation verdict.
import { describe, expect, it } from 'vitest';
import {
  hasDecomposition,
  pendingQuestion,
  readAssignments,
  readClarifications,
  readIntent,
  readPlan,
  readValidation,
} from './decomposition';
import { FLAT, PAUSED, PLANNED, VALIDATED } from '../test/decomposition';

describe('decomposition readers', () => {
  it('reads the plan, the assignments by manager, the intent and the questions', () => {
    const plan = readPlan(PLANNED);
    expect(plan?.project_name).toBe('Chirp');
    expect(plan?.components?.[0]).toEqual({ type: 'database', name: 'PostgreSQL', specific_requirements: ['users, posts tables'] });
    expect(plan?.technical_constraints).toEqual(['Posts are at most 280 characters']);
    expect(plan?.success_criteria).toEqual(['Users can post and read a feed']);
    const groups = readAssignments(PLANNED);
    expect(groups).toHaveLength(1);
    expect(groups[0].manager).toBe('database');
    expect(groups[0].title).toBe('Database manager');
    expect(groups[0].agents.map((a) => a.agent)).toEqual(['table_creation-1', 'table_creation-2']);
    expect(groups[0].agents[0].tasks).toEqual(['Create Users table', 'Create Posts table']);
    expect(readIntent(PLANNED)).toMatchObject({ intent: 'project', confidence: 0.9 });
    expect(readClarifications(PLANNED)).toEqual([{ question: 'Which city?', answer: 'Lyon', asked_ms: 1796168313422 }]);
    expect(pendingQuestion(PLANNED)).toBeNull();
    expect(hasDecomposition(PLANNED)).toBe(true);
  });

  it('reads a flat list of agents as one group without a manager', () => {
    const groups = readAssignments(FLAT);
    expect(groups).toEqual([{ manager: null, title: null, agents: [{ agent: 'writer-1', title: 'Writer', tasks: ['Write the README'] }] }]);
  });

  it('finds the question still waiting for an answer', () => {
    expect(pendingQuestion(PAUSED)).toBe('Which database should the app use?');
    expect(readPlan(PAUSED)).toBeNull();
    expect(hasDecomposition(PAUSED)).toBe(true);
  });

  it('reads a validation verdict, and nothing from results without one', () => {
    expect(readValidation(VALIDATED)).toEqual({
      passed: false,
      issues: ['The Posts table has no length check'],
      suggestions: ['Add CHECK (length(body) <= 280)'],
      by: 'llm',
    });
    expect(readValidation({ validation: { issues: [] } })).toBeNull();
    expect(readValidation('text')).toBeNull();
  });

  it('keeps only what is well formed, and takes any JSON', () => {
    expect(hasDecomposition(null)).toBe(false);
    expect(hasDecomposition(undefined)).toBe(false);
    expect(hasDecomposition([1, 2])).toBe(false);
    expect(hasDecomposition({ output: 'done' })).toBe(false);
    const odd = { plan: { project_name: 3, components: ['x', { name: 'API', specific_requirements: [1, 'auth'] }] }, assignments: [{ title: 'no name' }, 7] };
    expect(readPlan(odd)).toEqual({
      project_name: undefined,
      components: [{ type: undefined, name: 'API', specific_requirements: ['auth'] }],
      technical_constraints: [],
      success_criteria: [],
    });
    expect(readAssignments(odd)).toEqual([]);
    expect(readClarifications({ clarifications: [{ answer: 'x' }, { question: 'Q' }] })).toEqual([{ question: 'Q', answer: null, asked_ms: null }]);
  });
});
