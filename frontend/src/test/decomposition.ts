// Test fixtures of issue 13: a decomposing orchestrator's result (plan, assignments by manager,
// intent, questions), the flat form, a paused root's, a validated worker's, and a job tree
// the decomposer placed (root → database manager → two agents).
import type { JsonValue, NodeView } from '../api/types';
import { node } from './fixtures';

export const PLANNED: JsonValue = {
  plan: {
    project_name: 'Chirp',
    components: [
      { type: 'database', name: 'PostgreSQL', specific_requirements: ['users, posts tables'] },
      { type: 'backend', name: 'API', specific_requirements: ['REST endpoints', 'JWT auth'] },
    ],
    technical_constraints: ['Posts are at most 280 characters'],
    success_criteria: ['Users can post and read a feed'],
  },
  assignments: [
    {
      manager: 'database',
      title: 'Database manager',
      agents: [
        { agent: 'table_creation-1', title: 'Table creation (part 1)', tasks: ['Create Users table', 'Create Posts table'] },
        { agent: 'table_creation-2', title: 'Table creation (part 2)', tasks: ['Create Follows table'] },
      ],
    },
  ],
  intent: { intent: 'project', confidence: 0.9, reason: 'A whole application is asked for', question: '', agent: '' },
  clarifications: [{ question: 'Which city?', answer: 'Lyon', asked_ms: 1796168313422 }],
};

export const FLAT: JsonValue = {
  plan: { project_name: 'Tiny' },
  assignments: [{ agent: 'writer-1', title: 'Writer', tasks: ['Write the README'] }],
};

export const PAUSED: JsonValue = {
  intent: { intent: 'project', confidence: 0.4, reason: 'Unclear target' },
  clarifications: [
    { question: 'Which city?', answer: 'Lyon', asked_ms: 1796168313422 },
    { question: 'Which database should the app use?', asked_ms: 1796168319999 },
  ],
};

export const VALIDATED: JsonValue = {
  output: 'CREATE TABLE users (…);',
  validation: {
    passed: false,
    issues: ['The Posts table has no length check'],
    suggestions: ['Add CHECK (length(body) <= 280)'],
    by: 'llm',
  },
};

/** root (decomposing) → database (manager) → table_creation-1, table_creation-2. */
export function decomposedTree(rootStatus = 'succeeded'): NodeView {
  const agents = ['table_creation-1', 'table_creation-2'].map((id) => {
    const n = node(id, 2, [], 'succeeded');
    n.attempts = 1;
    return n;
  });
  agents[0].attempts = 2;
  const manager = node('database', 1, agents, 'succeeded');
  manager.title = 'Database manager';
  const root = node('root', 0, [manager], rootStatus);
  root.attempts = 1;
  return root;
}
