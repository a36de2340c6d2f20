// A unified diff in a scrollable, labelled, focusable <pre>: each line a span classed by what
// it is (added, removed, a hunk's header, a file header, context) so that the stylesheet
// colours it — the `+`/`-` stay in the text, so the colour is never the only sign. A huge diff
// is cut after DIFF_LINES_SHOWN lines, saying how many were left out.
import { useMemo } from 'react';
import { diffLineKind, diffLines } from '../app/workspace';

export interface DiffViewProps {
  diff: string;
  /** The accessible name of the diff's region ("Diff of cadre/…"). */
  label: string;
}

export function DiffView({ diff, label }: DiffViewProps) {
  const { lines, more } = useMemo(() => diffLines(diff), [diff]);
  if (lines.length === 0) return <p className="muted">No changes on the branch.</p>;
  return (
    <>
      <pre className="diff" role="region" aria-label={label} tabIndex={0} data-testid="workspace-diff">
        {lines.map((line, i) => (
          // Lines have no identity of their own: their place is their key.
          <span key={i} className={`diff-line diff-${diffLineKind(line)}`}>
            {line}
            {'\n'}
          </span>
        ))}
      </pre>
      {more > 0 && <p className="small muted">{more.toLocaleString('en')} more lines not shown.</p>}
    </>
  );
}
