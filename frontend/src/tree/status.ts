// Node and job statuses: the glyph, the words and the CSS class for each (status is always
// shown by glyph and text, never by colour alone).

export const NODE_STATUSES = ['pending', 'running', 'retrying', 'succeeded', 'failed', 'cancelled'] as const;

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
};

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

export function statusGlyph(status: string): string {
  return GLYPHS[status] ?? '?';
}

/** The CSS class colouring a status (`status-running`, …). */
export function statusClass(status: string): string {
  return `status-${GLYPHS[status] ? status : 'unknown'}`;
}

/** Roles of the default ladder, by depth. */
export const DEFAULT_ROLES = ['cto', 'pm', 'tech_lead', 'engineer', 'junior', 'intern'] as const;
export const MAX_DEPTH = 5;
