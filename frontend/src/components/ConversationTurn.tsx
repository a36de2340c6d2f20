// One turn of a node's conversation: the call's facts (purpose, model, tokens, cost, latency,
// status), what was sent before it, and its reply — texts, tool calls (with the children a
// spawn asked for) and tool results — long texts folded behind a disclosure.
import type { LlmCall } from '../api/types';
import { formatDuration, prettyJson } from '../app/format';
import { formatCost, tokensLong } from '../app/usage';
import { fold, spawnedNames, type SentBlock, type Turn } from './conversation';

/** A text shown whole when short, folded (details/summary) when long. */
export function Folded({ label, text }: { label: string; text: string }) {
  const { folded, preview } = fold(text);
  if (!folded) {
    return (
      <div className="convo-block">
        <span className="convo-label">{label}</span>
        <pre className="convo-text">{text || '(empty)'}</pre>
      </div>
    );
  }
  return (
    <details className="convo-block">
      <summary>
        <span className="convo-label">{label}</span> {preview}{' '}
        <span className="muted">({text.length.toLocaleString('en-US')} characters)</span>
      </summary>
      <pre className="convo-text">{text}</pre>
    </details>
  );
}

function BlockView({ block, label }: { block: SentBlock['block']; label: string }) {
  switch (block.type) {
    case 'text':
      return <Folded label={label} text={block.text} />;
    case 'tool_use': {
      const children = spawnedNames(block);
      return (
        <div className="convo-tool">
          <p>
            <strong>Tool call</strong> <code>{block.name}</code>
            {children &&
              `: ${children.length} ${children.length === 1 ? 'child' : 'children'}${children.length > 0 ? ` — ${children.join(', ')}` : ''}`}
          </p>
          <Folded label="Arguments" text={prettyJson(block.input)} />
        </div>
      );
    }
    case 'tool_result':
      return (
        <div className={`convo-tool${block.is_error ? ' convo-tool-error' : ''}`}>
          <p>
            <strong>{block.is_error ? 'Tool error' : 'Tool result'}</strong>
          </p>
          <Folded label={block.is_error ? 'Error' : 'Result'} text={block.content} />
        </div>
      );
  }
}

/** Usage a worker reported rather than a call cadre made: no turn, time or status. */
export const REPORT = 'report';

/** "turn 1 · model (provider) · 1,234 in / 56 out · $0.0031 · 850 ms · HTTP 200 · 2 tries". */
export function callFacts(call: LlmCall): string {
  const model = call.provider ? `${call.model} (${call.provider})` : call.model;
  if (call.purpose === REPORT) return [model, tokensLong(call), formatCost(call.cost)].join(' · ');
  const parts = [`turn ${call.turn}`, model, tokensLong(call), formatCost(call.cost), formatDuration(call.latency_ms)];
  if (call.http_status !== null && call.http_status !== undefined) parts.push(`HTTP ${call.http_status}`);
  if (call.tries > 1) parts.push(`${call.tries} tries`);
  return parts.join(' · ');
}

function sentLabel(sent: SentBlock, first: boolean): string {
  if (sent.role === 'user' && first) return 'Prompt';
  return sent.role === 'user' ? 'Sent' : sent.role;
}

/** One call; `index` counts from 1 within its attempt (the stored turn may start at 0). */
export function TurnView({ turn, index }: { turn: Turn; index: number }) {
  const { call } = turn;
  const first = index === 1;
  return (
    <li className="convo-turn" data-call-id={call.id}>
      <h4>
        Call {index} · {call.purpose}
      </h4>
      <p className="convo-facts">{callFacts(call)}</p>
      {call.error && <p className="error-text">Error: {call.error}</p>}
      {turn.system && <Folded label="System" text={turn.system} />}
      {turn.truncatedRequest !== null && (
        <Folded label="Request (cut at the size limit)" text={turn.truncatedRequest} />
      )}
      {turn.sent.map((s, i) => (
        <BlockView key={`sent-${i}`} block={s.block} label={sentLabel(s, first)} />
      ))}
      {turn.reply?.map((block, i) => <BlockView key={`reply-${i}`} block={block} label="Reply" />)}
      {turn.reply && turn.reply.length === 0 && <p className="muted">The reply was empty.</p>}
      {turn.rawResponse !== null && (
        <Folded label={call.response_truncated ? 'Response (cut at the size limit)' : 'Response'} text={turn.rawResponse} />
      )}
    </li>
  );
}
