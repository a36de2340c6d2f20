// The node panel's Recovery section for a node whose last attempt failed (issue 15): while
// it is tried again, which attempt failed; what it failed of (the server's class, in words);
// what followed (level 1 retried, level 2 reallocated with the memory and time the next
// attempt gets, level 3 escalated, or nothing: the node failed); and the server's note on why.
import type { NodeRetryingData, RecoveryView } from '../api/types';
import { classText, outcomeText } from '../app/recovery';

export interface RecoverySectionProps {
  recovery: RecoveryView;
  /** The `node_retrying` frame it came with, while the node is tried again. */
  retry?: NodeRetryingData | null;
}

export function RecoverySection({ recovery, retry }: RecoverySectionProps) {
  return (
    <section className="recovery" aria-labelledby="recovery-heading" data-testid="node-recovery">
      <h3 id="recovery-heading">Recovery</h3>
      <dl className="facts">
        {retry && (
          <>
            <dt>Attempt</dt>
            <dd>
              {retry.attempt}
              {retry.max_attempts !== null && ` of ${retry.max_attempts}`} failed
            </dd>
          </>
        )}
        <dt>Failure</dt>
        <dd data-testid="recovery-class">{classText(recovery.class)}</dd>
        <dt>Outcome</dt>
        <dd data-testid="recovery-outcome">{outcomeText(recovery)}</dd>
        {recovery.note && (
          <>
            <dt>Note</dt>
            <dd data-testid="recovery-note">{recovery.note}</dd>
          </>
        )}
      </dl>
    </section>
  );
}
