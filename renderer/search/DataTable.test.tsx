// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DataTable, nextSort, type Column } from '../ui/DataTable';

interface Row {
  id: string;
  name: string;
}
const rows: Row[] = Array.from({ length: 500 }, (_, i) => ({ id: `r${i}`, name: `Name ${i}` }));
const columns: Column<Row>[] = [
  { id: 'id', header: 'ID', cell: (r) => r.id, sortKey: '_id' },
  { id: 'name', header: 'Name', cell: (r) => r.name },
];

afterEach(cleanup);

describe('DataTable', () => {
  it('renders only a window of a long list, with a named table and sortable headers', () => {
    const onSort = vi.fn();
    render(<DataTable label="Results" columns={columns} rows={rows} rowKey={(r) => r.id} sort={{ key: '_id', direction: 'asc' }} onSort={onSort} onActivate={() => {}} />);
    const table = screen.getByRole('table', { name: 'Results' });
    const bodyRows = within(table).getAllByRole('row').filter((r) => r.hasAttribute('data-index'));
    expect(bodyRows.length).toBeGreaterThan(5);
    // jsdom has no layout (rows measure 0 px high), so only "fewer than all" is certain here.
    expect(bodyRows.length).toBeLessThan(rows.length);
    expect(screen.getByRole('columnheader', { name: /ID/ }).getAttribute('aria-sort')).toBe('ascending');
    fireEvent.click(screen.getByRole('button', { name: /ID/ }));
    expect(onSort).toHaveBeenCalledWith({ key: '_id', direction: 'desc' });
  });

  it('opens a row by click or Enter and moves between rows with the arrow keys', () => {
    const onActivate = vi.fn();
    render(<DataTable label="Results" columns={columns} rows={rows.slice(0, 5)} rowKey={(r) => r.id} onActivate={onActivate} />);
    const first = screen.getByText('r0').closest('tr')!;
    expect(first.tabIndex).toBe(0);
    expect(screen.getByText('r1').closest('tr')!.tabIndex).toBe(-1);
    first.focus();
    fireEvent.keyDown(first, { key: 'ArrowDown' });
    const second = screen.getByText('r1').closest('tr')!;
    expect(document.activeElement).toBe(second);
    fireEvent.keyDown(second, { key: 'Enter' });
    expect(onActivate).toHaveBeenLastCalledWith(rows[1]);
    fireEvent.click(screen.getByText('r3'));
    expect(onActivate).toHaveBeenLastCalledWith(rows[3]);
  });

  it('says when there is nothing to show', () => {
    render(<DataTable label="Results" columns={columns} rows={[]} rowKey={(r) => r.id} empty="No matches." />);
    expect(screen.getByText('No matches.')).toBeTruthy();
  });

  it('toggles the direction on the same column and starts ascending on another', () => {
    expect(nextSort(undefined, 'a')).toEqual({ key: 'a', direction: 'asc' });
    expect(nextSort({ key: 'a', direction: 'asc' }, 'a')).toEqual({ key: 'a', direction: 'desc' });
    expect(nextSort({ key: 'a', direction: 'desc' }, 'a')).toEqual({ key: 'a', direction: 'asc' });
    expect(nextSort({ key: 'a', direction: 'desc' }, 'b')).toEqual({ key: 'b', direction: 'asc' });
  });
});
