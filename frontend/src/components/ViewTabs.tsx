// A row of tabs choosing how a panel shows its content (WAI-ARIA tabs: roving tabindex, the
// arrow keys, Home and End move and select; the panel is labelled by the selected tab). A tab
// may carry a count badge (none at 0).
import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface TabChoice<T extends string> {
  value: T;
  text: string;
  /** A count shown as a badge after the text (none when absent or 0). */
  badge?: number;
}

export interface ViewTabsProps<T extends string> {
  /** Prefix of the tab and panel element ids. */
  idPrefix: string;
  label: string;
  tabs: readonly TabChoice<T>[];
  current: T;
  onChange: (value: T) => void;
  children: ReactNode;
}

function nextIndex(key: string, index: number, count: number): number | null {
  switch (key) {
    case 'ArrowRight':
      return (index + 1) % count;
    case 'ArrowLeft':
      return (index - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

export function ViewTabs<T extends string>({ idPrefix, label, tabs, current, onChange, children }: ViewTabsProps<T>) {
  const buttons = useRef(new Map<T, HTMLButtonElement>());
  const tabId = (value: T) => `${idPrefix}-tab-${value}`;
  const panelId = `${idPrefix}-panel`;

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const index = tabs.findIndex((t) => t.value === current);
    const next = nextIndex(e.key, index, tabs.length);
    if (next === null) return;
    e.preventDefault();
    const value = tabs[next].value;
    onChange(value);
    buttons.current.get(value)?.focus();
  };

  return (
    <>
      <div role="tablist" aria-label={label} className="view-tabs" onKeyDown={onKeyDown}>
        {tabs.map((t) => (
          <button
            key={t.value}
            ref={(el) => {
              if (el) buttons.current.set(t.value, el);
              else buttons.current.delete(t.value);
            }}
            type="button"
            role="tab"
            id={tabId(t.value)}
            aria-selected={t.value === current}
            aria-controls={panelId}
            tabIndex={t.value === current ? 0 : -1}
            onClick={() => onChange(t.value)}
          >
            {t.text}
            {t.badge ? (
              <>
                {' '}
                <span className="nav-badge tab-badge" data-testid={`${idPrefix}-badge-${t.value}`} data-count={t.badge}>
                  {t.badge}
                </span>
              </>
            ) : null}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={panelId} aria-labelledby={tabId(current)} className="view-panel">
        {children}
      </div>
    </>
  );
}
