// Node and job statuses: the glyph, the words and the CSS class for each (status is always
// shown by glyph and text, never by colour alone).

export const NODE_STATUSES = ['pending', 'running', 'retrying', 'awaiting_approval', 'succeeded', 'failed', 'cancelled'] as const;

/** The status of a node that waits for a person to approve its start or accept its result. */
export const AWAITING_APPROVAL = 'awaiting_approval';

const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

const GLYPHS: Record<string, string> = {
  succeeded: '✓',
  failed: '✗',
  running: '●',
  pending: '○',
  queued: '○',
  cancelled: '⊘',
  cancelling: '⊘',
  retrying: '↻',
  paused: '‖',
  awaiting_approval: '⚑',
};

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

export function statusGlyph(status: string): string {
  return GLYPHS[status] ?? '?';
}

/** A status in words: `awaiting_approval` reads "awaiting approval". */
export function statusText(status: string): string {
  return status.replaceAll('_', ' ');
}

/** The CSS class colouring a status (`status-running`, …). */
export function statusClass(status: string): string {
  return `status-${GLYPHS[status] ? status : 'unknown'}`;
}

/** Roles of the default ladder, by depth. */
export const DEFAULT_ROLES = ['cto', 'pm', 'tech_lead', 'engineer', 'junior', 'intern'] as const;
export const MAX_DEPTH = 5;
