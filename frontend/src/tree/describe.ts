// How a node is named in hover text: its path from the root, and a few lines of who, where,
// what state, (when it has started) how long, (when its model calls spent any) how much,
// (when it has a budget envelope) how much of that and (after a failed attempt it retries)
// what the attempt failed of and what follows.
import { budgetShort } from '../app/budget';
import { retryingText } from '../app/recovery';
import { between, formatDuration } from '../app/format';
import { usageShort } from '../app/usage';
import type { TreeNode } from './model';
import { statusText } from './status';

/** Names from the root down to the node, e.g. "release / build / compile". */
export function nodePath(node: TreeNode): string {
  const names: string[] = [];
  for (let n: TreeNode | null = node; n; n = n.parent) names.push(n.name);
  return names.reverse().join(' / ');
}

/** Hover text: role and name, path, status, once started the duration so far, the subtree's spend, its budget, and its last retry. */
export function nodeSummary(node: TreeNode, now?: number): string {
  const lines = [`${node.role} ${node.name}`, nodePath(node), `status: ${statusText(node.status)}`];
  if (node.startedAt) {
    const end = node.finishedAt ?? (now === undefined ? null : new Date(now).toISOString());
    lines.push(`duration: ${formatDuration(between(node.startedAt, end))}`);
  }
  const spent = node.subtreeUsage ?? node.usage;
  if (spent) lines.push(`spent: ${usageShort(spent)}`);
  if (node.budget) lines.push(`budget: ${budgetShort(node.budget)}`);
  if (node.retry) lines.push(`retry: ${retryingText(node.retry)}`);
  return lines.join('\n');
}
