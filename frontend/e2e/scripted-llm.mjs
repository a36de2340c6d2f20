// A scripted model for the e2e's agents step: a node:http server speaking OpenAI's chat
// completions (`POST /chat/completions`) on a free port of 127.0.0.1. Each answer is read
// off the request alone, so the order in which cadre's agents call it does not matter:
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
  let message;
  let finishReason = 'stop';
  if (offersSpawn && !hasToolResult) {
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
