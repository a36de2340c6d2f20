// The frame of a view that shows one of a few lists of cards (alerts, approval requests): its
// heading, a toggle choosing the list (kept in the URL), the list's introduction, an announced
// notice, the loading, error and empty states, the cards, and "Show more".
import { Fragment, type ReactNode } from 'react';
import { replaceHash } from '../app/route';

export interface ListChoice<L extends string> {
  value: L;
  text: string;
}

export interface ListViewFrameProps<L extends string, T extends { id: string }> {
  title: string;
  /** The toggle's accessible name. */
  choicesLabel: string;
  choices: readonly ListChoice<L>[];
  /** The list shown. */
  show: L;
  /** The URL hash that shows a list. */
  hashOf: (list: L) => string;
  intro: string;
  /** Announced (a polite live region). */
  notice: string | null;
  error: string | null;
  /** Null until read. */
  items: readonly T[] | null | undefined;
  /** What an empty list says. */
  empty: string;
  emptyTestId: string;
  listTestId: string;
  renderItem: (item: T) => ReactNode;
  more: boolean;
  loadMore: () => void;
}

export function ListViewFrame<L extends string, T extends { id: string }>(props: ListViewFrameProps<L, T>) {
  const { title, choicesLabel, choices, show, hashOf, intro, notice, error, items, empty, emptyTestId, listTestId, renderItem, more, loadMore } = props;
  return (
    <>
      <h1 tabIndex={-1}>{title}</h1>
      <div className="actions">
        <div role="group" aria-label={choicesLabel} className="segmented">
          {choices.map((c) => (
            <button key={c.value} type="button" aria-pressed={show === c.value} onClick={() => replaceHash(hashOf(c.value))}>
              {c.text}
            </button>
          ))}
        </div>
      </div>
      <p className="muted">{intro}</p>
      <p role="status" className="list-notice">
        {notice}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!items && !error && <p>Loading…</p>}
      {items && items.length === 0 && <p data-testid={emptyTestId}>{empty}</p>}
      {items && items.length > 0 && (
        <div className="card-list" data-testid={listTestId}>
          {items.map((item) => (
            <Fragment key={item.id}>{renderItem(item)}</Fragment>
          ))}
        </div>
      )}
      {more && (
        <p>
          <button type="button" onClick={loadMore}>
            Show more
          </button>
        </p>
      )}
    </>
  );
}
