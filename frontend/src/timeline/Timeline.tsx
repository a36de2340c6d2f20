// The timeline of a job: one bar per started node from its start to its end (open bars run to
// now and grow while the job runs), rows grouped by depth or by branch, a time axis kept above
// the vertically scrolling rows, status colours, hover text, click to select, live updates.
import { useEffect, useMemo, useRef, useState } from 'react';
import { formatDuration } from '../app/format';
import { StatusLegend } from '../components/StatusLegend';
import { useElementSize } from '../components/useElementSize';
import type { TreeModel } from '../tree/model';
import { useModelChanges } from '../tree/useModelChanges';
import { AXIS_HEIGHT, drawAxis, drawTimeline, ROW_HEIGHT, timeScale } from './draw';
import { timelineRows, timeSpan, type Grouping } from './rows';
import { useNow } from './useNow';

/** Size assumed before the panel is measured. */
const UNMEASURED = { width: 800, height: 500 };

const GROUPINGS: readonly { value: Grouping; text: string }[] = [
  { value: 'depth', text: 'By depth' },
  { value: 'branch', text: 'By branch' },
];

export interface TimelineProps {
  model: TreeModel;
  label: string;
  selectedId?: string | null;
  onSelect?: (id: string) => void;
}

export function Timeline({ model, label, selectedId = null, onSelect }: TimelineProps) {
  const version = useModelChanges(model);
  const [grouping, setGrouping] = useState<Grouping>('depth');
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const rows = useMemo(() => timelineRows(model, grouping), [model, version, grouping]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const totals = useMemo(() => model.totals(), [model, version]);
  const now = useNow(rows.open);
  const span = timeSpan(rows, now);
  const frame = useRef<HTMLDivElement | null>(null);
  const axisRef = useRef<SVGGElement | null>(null);
  const rowsRef = useRef<SVGSVGElement | null>(null);
  const { width } = useElementSize(frame, UNMEASURED);
  const pick = useRef(onSelect);
  useEffect(() => {
    pick.current = onSelect;
  });

  const [start, end, openEnd] = span ? [span.start, span.end, span.openEnd] : [0, 0, 0];
  useEffect(() => {
    if (!span || !axisRef.current || !rowsRef.current) return;
    drawAxis(axisRef.current, timeScale(span, width));
    drawTimeline(rowsRef.current, rows, span, width, { selectedId, onPick: (id) => pick.current?.(id) });
    // `span` is rebuilt every render: its fields are the dependencies.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rows, start, end, openEnd, width, selectedId]);

  const height = rows.rows.length * ROW_HEIGHT;
  return (
    <div className="timeline">
      <div className="tree-toolbar">
        <div role="group" aria-label="Group rows" className="segmented">
          {GROUPINGS.map((g) => (
            <button key={g.value} type="button" aria-pressed={grouping === g.value} onClick={() => setGrouping(g.value)}>
              {g.text}
            </button>
          ))}
        </div>
        <span className="tree-count" data-testid="timeline-count">
          {rows.bars} of {model.size} nodes started{rows.open ? ' · running' : ''}
        </span>
      </div>
      <StatusLegend counts={totals} label={`${label}: nodes by status`} />
      <div className="timeline-frame" ref={frame}>
        {span ? (
          <>
            <svg className="timeline-axis" width={width} height={AXIS_HEIGHT} aria-hidden="true" focusable="false">
              <text className="tl-axis-caption" x={4} y={AXIS_HEIGHT / 2}>
                {new Date(start).toLocaleTimeString()} + {formatDuration(end - start)}
              </text>
              <g ref={axisRef} />
            </svg>
            <div className="timeline-scroll" tabIndex={0} role="region" aria-label={`${label} rows`}>
              <svg
                ref={rowsRef}
                className="timeline-rows"
                width={width}
                height={height}
                role="img"
                aria-label={`${label}: ${rows.bars} nodes over time, grouped by ${grouping}`}
                data-grouping={grouping}
              >
                <g className="tl-grid" />
                <g className="tl-headers" />
                <g className="tl-bars" />
                <line className="tl-now" />
              </svg>
            </div>
          </>
        ) : (
          <p className="muted">No node has started yet.</p>
        )}
      </div>
      <p className="small muted">Hover a bar for its path, status and duration; click it to see the node in the side panel.</p>
    </div>
  );
}
