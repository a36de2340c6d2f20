// One agent of the organisation chart, as a card placed by the layout: a button (selecting
// the agent) with its title (or name), name, status, department, a bar of its load (running
// against concurrency) and its success rate; its label says the same words in the same order.
import type { CSSProperties } from 'react';
import { formatLoad, formatSuccessRate, loadShare, orgCardLabel } from '../app/agents';
import { AgentStatusBadge } from '../components/AgentStatusBadge';
import { CARD_HEIGHT, CARD_WIDTH, type OrgCard as Card } from './layout';

const PERCENT = 100;

export interface OrgCardProps {
  card: Card;
  selected: boolean;
  onSelect: (name: string) => void;
}

export function OrgCard({ card, selected, onSelect }: OrgCardProps) {
  const { node } = card;
  const share = loadShare(node.running, node.concurrency);
  const style: CSSProperties = { left: card.x, top: card.y, width: CARD_WIDTH, height: CARD_HEIGHT };
  const success = formatSuccessRate(node.success_rate);
  return (
    <button
      type="button"
      className={`org-card org-card-${node.status}${selected ? ' selected' : ''}`}
      style={style}
      aria-label={orgCardLabel(node)}
      aria-current={selected ? 'true' : undefined}
      onClick={() => onSelect(node.name)}
      data-agent={node.name}
      data-level={card.level}
      data-manager={card.manager ?? ''}
      data-running={node.running}
      data-concurrency={node.concurrency}
      data-success={success}
    >
      {/* Spaces between the parts: the words stay apart when read as text (they are laid out apart anyway). */}
      <span className="org-card-title" title={node.title || node.name}>
        {node.title || node.name}
      </span>{' '}
      <span className="org-card-line">
        {node.title && (
          <>
            <code className="org-card-name">{node.name}</code>{' '}
          </>
        )}
        <AgentStatusBadge status={node.status} />
      </span>{' '}
      {node.department && (
        <>
          <span className="org-card-line muted">{node.department}</span>{' '}
        </>
      )}
      <span className="org-card-line">
        load{' '}
        <span className={`org-load${share >= 1 ? ' org-load-full' : ''}`} aria-hidden="true">
          <span className="org-load-fill" style={{ width: `${share * PERCENT}%` }} />
        </span>{' '}
        <span className="org-card-figure" data-testid="org-load">
          {formatLoad(node.running, node.concurrency)}
        </span>
      </span>{' '}
      <span className="org-card-line">
        success{' '}
        <span className="org-card-figure" data-testid="org-success">
          {success}
        </span>
      </span>
    </button>
  );
}
