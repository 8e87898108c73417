/**
 * A virtualized, sortable table for long lists (search results, audit events). Real table
 * semantics (a caption-less <table> named by `label`, <th aria-sort>), only the visible
 * rows rendered (@tanstack/react-virtual, spacer rows above and below), a fixed maximum
 * height with the header kept in view.
 *
 * Keyboard: sortable headers are buttons; rows, when `onActivate` is given, form one tab
 * stop (roving tabindex): Up/Down/Home/End/PageUp/PageDown move, Enter or a click opens.
 * Sorting itself is the caller's: `onSort` gets the next state, `sort` shows the current.
 */
import { observeElementRect, useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface Column<T> {
  id: string;
  header: ReactNode;
  cell(row: T): ReactNode;
  /** Set when the column can be sorted: the key handed to `onSort` (e.g. a `_sort` parameter). */
  sortKey?: string;
  /** A CSS width for the column (e.g. '8rem', '30%'). */
  width?: string;
}

export interface SortState {
  key: string;
  direction: 'asc' | 'desc';
}

export interface DataTableProps<T> {
  /** The table's accessible name. */
  label: string;
  columns: Column<T>[];
  rows: T[];
  rowKey(row: T): string;
  sort?: SortState | undefined;
  onSort?: (next: SortState) => void;
  /** Opening a row (Enter or click). */
  onActivate?: (row: T) => void;
  /** Maximum height of the scroll area in px (default 480). */
  maxHeight?: number;
  /** Estimated row height in px (default 37). */
  rowHeight?: number;
  /** Shown in place of the rows when there are none. */
  empty?: ReactNode;
}

export function nextSort(current: SortState | undefined, key: string): SortState {
  return current?.key === key && current.direction === 'asc' ? { key, direction: 'desc' } : { key, direction: 'asc' };
}

export function DataTable<T>({ label, columns, rows, rowKey, sort, onSort, onActivate, maxHeight = 480, rowHeight = 37, empty }: DataTableProps<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const focusPending = useRef(false);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 8,
    // Where layout is unknown (hidden, or a DOM without layout) assume the full height.
    observeElementRect: (instance, cb) => observeElementRect(instance, (r) => cb(r.height > 0 ? r : { width: r.width, height: maxHeight })),
  });
  const activeIndex = Math.min(active, Math.max(rows.length - 1, 0));

  const moveTo = useCallback(
    (i: number) => {
      const next = Math.max(0, Math.min(rows.length - 1, i));
      focusPending.current = true;
      setActive(next);
      virtualizer.scrollToIndex(next, { align: 'auto' });
    },
    [rows.length, virtualizer],
  );

  useEffect(() => {
    if (!focusPending.current) return;
    const el = scrollRef.current?.querySelector<HTMLElement>(`tr[data-index="${activeIndex}"]`);
    if (el) {
      focusPending.current = false;
      el.focus({ preventScroll: false });
    }
  });

  const onRowKey = (e: KeyboardEvent<HTMLTableRowElement>, row: T, index: number) => {
    const page = Math.max(1, Math.floor(maxHeight / rowHeight) - 1);
    const moves: Record<string, number> = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: rows.length - 1, PageDown: index + page, PageUp: index - page };
    if (e.key === 'Enter') {
      e.preventDefault();
      onActivate?.(row);
    } else if (e.key in moves) {
      e.preventDefault();
      moveTo(moves[e.key]!);
    }
  };

  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  const padTop = first ? first.start : 0;
  const padBottom = last ? virtualizer.getTotalSize() - last.end : 0;
  const interactive = !!onActivate;

  return (
    <div
      className="data-table-scroll"
      ref={scrollRef}
      style={{ maxHeight }}
      // Without focusable rows the scroll area itself takes focus, so keys can scroll it.
      tabIndex={interactive && rows.length > 0 ? undefined : 0}
      role={interactive && rows.length > 0 ? undefined : 'region'}
      aria-label={interactive && rows.length > 0 ? undefined : label}
    >
      <table className="data data-table" aria-label={label} aria-rowcount={rows.length + 1}>
        {interactive && rows.length > 0 ? <caption className="visually-hidden">Arrow keys move between rows; Enter opens one.</caption> : null}
        <colgroup>
          {columns.map((c) => (
            <col key={c.id} style={c.width ? { width: c.width } : undefined} />
          ))}
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            {columns.map((c) => {
              const sorted = c.sortKey && sort?.key === c.sortKey ? sort.direction : undefined;
              return (
                <th key={c.id} scope="col" aria-sort={c.sortKey ? (sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none') : undefined}>
                  {c.sortKey && onSort ? (
                    <button type="button" className="sort-button" onClick={() => onSort(nextSort(sort, c.sortKey!))}>
                      {c.header}
                      <span aria-hidden="true" className="sort-mark">
                        {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ' ↕'}
                      </span>
                    </button>
                  ) : (
                    c.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="data-table-empty">
                {empty ?? 'Nothing to show.'}
              </td>
            </tr>
          ) : null}
          {padTop > 0 ? (
            <tr aria-hidden="true" className="data-table-spacer">
              <td colSpan={columns.length} style={{ height: padTop }} />
            </tr>
          ) : null}
          {items.map((item) => {
            const row = rows[item.index]!;
            return (
              <tr
                key={rowKey(row)}
                data-index={item.index}
                aria-rowindex={item.index + 2}
                ref={virtualizer.measureElement}
                className={interactive ? 'data-table-row activatable' : 'data-table-row'}
                tabIndex={interactive ? (item.index === activeIndex ? 0 : -1) : undefined}
                onClick={interactive ? () => onActivate(row) : undefined}
                onFocus={interactive ? () => setActive(item.index) : undefined}
                onKeyDown={interactive ? (e) => onRowKey(e, row, item.index) : undefined}
              >
                {columns.map((c) => (
                  <td key={c.id}>{c.cell(row)}</td>
                ))}
              </tr>
            );
          })}
          {padBottom > 0 ? (
            <tr aria-hidden="true" className="data-table-spacer">
              <td colSpan={columns.length} style={{ height: padBottom }} />
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
