// A scripted model for the e2e's agents and decomposition steps: a node:http server speaking
// OpenAI's chat completions (`POST /chat/completions`) on a free port of 127.0.0.1. Each
// answer is read off the request alone (its first user message, its tools, its tool
// messages), so the order in which cadre's agents call it does not matter:
//   - the decomposer's plan call (the user message starts "You are the architect of a team of
//     software agents"): the plan PLAN, project "Chirp", one PostgreSQL component;
//   - its breakdown call ("You break a software project down"): BREAKDOWN, a database task
//     and a backend task after it, so the job gets the managers `database` and `backend`;
//   - its classify call ("You decide what kind of work a request is"): `clarify`, asking
//     CLARIFY_QUESTION, until the request holds the answer ("Q: Which city?" and "A: Lyon"),
//     then `direct_response`;
//   - the direct answer's worker ("# Your task: Answer"): DIRECT_ANSWER;
//   - a request offering spawn_children, with no tool message yet (the lead's first turn):
//     a spawn_children tool call for the children `writer` and `checker`;
//   - a request holding a tool message (the lead, its children ended): "The team is done.";
//   - anything else (a child): "part done".
// Every answer reports PROMPT_TOKENS in and COMPLETION_TOKENS out.
import { createServer } from 'node:http';

export const PROMPT_TOKENS = 1200;
export const COMPLETION_TOKENS = 30;
export const ANSWER_MODEL = 'scripted-gpt';
export const SPAWNED = ['writer', 'checker'];
export const LEAD_DONE = 'The team is done.';
export const CHILD_DONE = 'part done';

export const PROJECT = 'Chirp';
/** The architect's plan (config/prompts/plan.schema.json). */
export const PLAN = {
  project_name: PROJECT,
  components: [{ type: 'database', name: 'PostgreSQL', specific_requirements: ['users and posts tables'] }],
  technical_constraints: ['Posts are at most 280 characters'],
  success_criteria: ['Users can post and read a feed'],
};
/** The breakdown (config/prompts/decompose.schema.json): one database task, one backend task. */
export const BREAKDOWN = {
  tasks: [
    {
      title: 'Data',
      subtasks: [
        {
          title: 'Create Posts table',
          description: 'posts(id, user_id, text ≤ 280, created_at)',
          domain: 'database',
          function: 'table_creation',
          complexity: 'medium',
          depends_on: [],
          success_criteria: ['the table exists'],
        },
      ],
    },
    {
      title: 'API',
      subtasks: [
        {
          title: 'POST /api/posts',
          description: 'creates a post',
          domain: 'backend',
          function: 'api_endpoints',
          complexity: 'low',
          depends_on: ['Create Posts table'],
          success_criteria: ['201 with the post'],
        },
      ],
    },
  ],
};
export const CLARIFY_QUESTION = 'Which city?';
export const CLARIFY_ANSWER = 'Lyon';
export const DIRECT_ANSWER = 'Lyon has about 520,000 inhabitants.';

const PLAN_PROMPT = 'You are the architect of a team of software agents';
const BREAKDOWN_PROMPT = 'You break a software project down';
const CLASSIFY_PROMPT = 'You decide what kind of work a request is';
const ANSWER_PROMPT = '# Your task: Answer';

const SPAWN_ARGUMENTS = {
  children: [
    { name: 'writer', title: 'Write it', run: { type: 'llm', provider: 'scripted' } },
    { name: 'checker', title: 'Check it', run: { type: 'llm', provider: 'scripted' } },
  ],
};

/** The answer to one chat completions request body. */
export function answerFor(request) {
  const tools = Array.isArray(request?.tools) ? request.tools : [];
  const messages = Array.isArray(request?.messages) ? request.messages : [];
  const offersSpawn = tools.some((t) => t?.function?.name === 'spawn_children');
  const hasToolResult = messages.some((m) => m?.role === 'tool');
  const asked = messages.find((m) => m?.role === 'user');
  const prompt = typeof asked?.content === 'string' ? asked.content : '';
  let message;
  let finishReason = 'stop';
  const say = (content) => ({ role: 'assistant', content: typeof content === 'string' ? content : JSON.stringify(content) });
  if (prompt.startsWith(PLAN_PROMPT)) {
    message = say(PLAN);
  } else if (prompt.startsWith(BREAKDOWN_PROMPT)) {
    message = say(BREAKDOWN);
  } else if (prompt.startsWith(CLASSIFY_PROMPT)) {
    const answered = prompt.includes(`Q: ${CLARIFY_QUESTION}`) && prompt.includes(`A: ${CLARIFY_ANSWER}`);
    message = say(
      answered
        ? { intent: 'direct_response', confidence: 0.9, reason: 'a fact' }
        : { intent: 'clarify', confidence: 0.8, question: CLARIFY_QUESTION, reason: 'the city is not named' },
    );
  } else if (prompt.startsWith(ANSWER_PROMPT)) {
    message = say(DIRECT_ANSWER);
  } else if (offersSpawn && !hasToolResult) {
    finishReason = 'tool_calls';
    message = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'spawn_children', arguments: JSON.stringify(SPAWN_ARGUMENTS) } }],
    };
  } else {
    message = { role: 'assistant', content: hasToolResult ? LEAD_DONE : CHILD_DONE };
  }
  return {
    id: 'c',
    object: 'chat.completion',
    model: ANSWER_MODEL,
    choices: [{ index: 0, finish_reason: finishReason, message }],
    usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: COMPLETION_TOKENS },
  };
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts the server; resolves to its base URL, the requests it answered, and `stop`. */
export function startScriptedLlm() {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        reply(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
        return;
      }
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        reply(res, 400, { error: { message: `the body is not JSON: ${err.message}` } });
        return;
      }
      requests.push(body);
      reply(res, 200, answerFor(body));
    });
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolveStart({
        baseUrl: `http://127.0.0.1:${port}`,
        requests,
        stop: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
