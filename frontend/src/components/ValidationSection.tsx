// The node panel's Validation section for a worker whose result was checked: passed or failed
// (glyph and word), who judged (a model or a command), the attempts it took, the issues found
// and the suggestions made.
import type { ResultValidation } from '../api/types';
import { TextList } from './TextList';

export interface ValidationSectionProps {
  validation: ResultValidation;
  /** The node's attempts (more than one: a failed validation ran it again). */
  attempts: number;
}

const JUDGES: Record<string, string> = { llm: 'a model', command: 'a command' };

function Verdict({ passed }: { passed: boolean }) {
  return (
    <span className={`badge ${passed ? 'status-succeeded' : 'status-failed'}`} data-passed={passed}>
      <span aria-hidden="true">{passed ? '✓' : '✗'}</span> {passed ? 'passed' : 'failed'}
    </span>
  );
}

export function ValidationSection({ validation, attempts }: ValidationSectionProps) {
  const retries = Math.max(0, attempts - 1);
  return (
    <section className="validation" aria-labelledby="validation-heading" data-testid="node-validation">
      <h3 id="validation-heading">Validation</h3>
      <dl className="facts">
        <dt>Verdict</dt>
        <dd>
          <Verdict passed={validation.passed} />
        </dd>
        <dt>Judged by</dt>
        <dd>{validation.by ? (JUDGES[validation.by] ?? validation.by) : '—'}</dd>
        <dt>Attempts</dt>
        <dd>
          {attempts}
          {retries > 0 && <span className="muted"> ({retries === 1 ? '1 retry' : `${retries} retries`})</span>}
        </dd>
      </dl>
      <TextList heading="Issues" items={validation.issues} />
      <TextList heading="Suggestions" items={validation.suggestions} />
    </section>
  );
}
