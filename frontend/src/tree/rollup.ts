// Roll-up text of a collapsed node: its whole subtree's counts by status, in words.

const ORDER: readonly (readonly [string, string])[] = [
  ['running', 'running'],
  ['retrying', 'retrying'],
  ['awaiting_approval', 'awaiting approval'],
  ['failed', 'failed'],
  ['pending', 'pending'],
  ['succeeded', 'done'],
  ['cancelled', 'cancelled'],
];

export function rollupText(rollup: Record<string, number>): string {
  const parts: string[] = [];
  for (const [status, word] of ORDER) {
    const n = rollup[status] ?? 0;
    if (n > 0) parts.push(`${n} ${word}`);
  }
  for (const [status, n] of Object.entries(rollup)) {
    if (n > 0 && !ORDER.some(([s]) => s === status)) parts.push(`${n} ${status.replaceAll('_', ' ')}`);
  }
  return parts.length > 0 ? parts.join(' · ') : 'empty';
}
