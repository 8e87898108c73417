import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import type { DesktopSyncState } from '../../shared/desktop-api';
import { trayMenuTemplate, type TrayMenuActions } from './tray-menu';
import { TRAY_STATE_LABELS } from './tray-state';

function recorder(): { actions: TrayMenuActions; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    actions: {
      open: () => calls.push('open'),
      setSyncPaused: (paused) => calls.push(`paused=${paused}`),
      quit: () => calls.push('quit'),
    },
  };
}

const item = (template: MenuItemConstructorOptions[], id: string): MenuItemConstructorOptions => {
  const found = template.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id}`);
  return found;
};

/** Clicks an item as Electron would (the arguments do not matter to these handlers). */
const click = (entry: MenuItemConstructorOptions): void =>
  (entry.click as unknown as () => void)();

describe('trayMenuTemplate', () => {
  it('Open Flint, the state line, Pause sync, Quit Flint, in that order', () => {
    const { actions } = recorder();
    const template = trayMenuTemplate('up-to-date', actions);
    expect(template.map((i) => i.label ?? `-${i.type}-`)).toEqual([
      'Open Flint',
      '-separator-',
      'Up to date',
      'Pause sync',
      '-separator-',
      'Quit Flint',
    ]);
    // The state line is text, not a command.
    expect(item(template, 'sync-state').enabled).toBe(false);
    expect(item(template, 'sync-state').click).toBeUndefined();
  });

  it('pauses when running and resumes when paused', () => {
    const { actions, calls } = recorder();
    const running = item(trayMenuTemplate('syncing', actions), 'pause-sync');
    expect(running.label).toBe('Pause sync');
    expect(running.enabled).toBe(true);
    click(running);
    const paused = item(trayMenuTemplate('paused', actions), 'pause-sync');
    expect(paused.label).toBe('Resume sync');
    expect(paused.enabled).toBe(true);
    click(paused);
    expect(calls).toEqual(['paused=true', 'paused=false']);
  });

  it('every state: its line, and pause disabled only while sync is not set up', () => {
    const states: DesktopSyncState[] = ['not-configured', 'up-to-date', 'syncing', 'offline', 'paused', 'error', 'conflicts'];
    for (const state of states) {
      const template = trayMenuTemplate(state, recorder().actions);
      expect(item(template, 'sync-state').label).toBe(TRAY_STATE_LABELS[state]);
      expect(item(template, 'pause-sync').enabled).toBe(state !== 'not-configured');
    }
  });

  it('open and quit call their actions; quit is not a role that would bypass them', () => {
    const { actions, calls } = recorder();
    const template = trayMenuTemplate('offline', actions);
    click(item(template, 'open'));
    click(item(template, 'quit'));
    expect(calls).toEqual(['open', 'quit']);
    expect(template.some((i) => i.role !== undefined)).toBe(false);
  });
});
