import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { appMenuTemplate, type AppMenuOptions, documentationTarget } from './app-menu';

function options(platform: NodeJS.Platform, patch: Partial<AppMenuOptions> = {}): AppMenuOptions & { calls: string[] } {
  const calls: string[] = [];
  return {
    platform,
    packaged: true,
    documentation: { url: 'https://flint.example/docs' },
    actions: {
      about: () => calls.push('about'),
      openDocumentation: () => calls.push('docs'),
      copyEndpointAddress: () => calls.push('copy'),
    },
    calls,
    ...patch,
  };
}

const submenuOf = (item: MenuItemConstructorOptions | undefined): MenuItemConstructorOptions[] => {
  if (!item || !Array.isArray(item.submenu)) throw new Error('no submenu');
  return item.submenu;
};
/** Each item as its role, id or `-` for a separator. */
const names = (items: MenuItemConstructorOptions[]): string[] =>
  items.map((i) => (i.type === 'separator' ? '-' : (i.role ?? i.id ?? String(i.label))));
const menu = (template: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions[] =>
  submenuOf(template.find((m) => String(m.label).replace('&', '') === label));
const allItems = (template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] =>
  template.flatMap((m) => [m, ...(Array.isArray(m.submenu) ? m.submenu : [])]);
const click = (item: MenuItemConstructorOptions | undefined): void => (item?.click as unknown as () => void)();

describe('appMenuTemplate', () => {
  it('macOS: the app menu first, with About, the usual roles and Quit (Cmd+Q)', () => {
    const template = appMenuTemplate(options('darwin'));
    expect(template.map((m) => m.label)).toEqual(['Flint', 'File', 'Edit', 'View', 'Window', 'Help']);
    expect(names(menu(template, 'Flint'))).toEqual(['about', '-', 'services', '-', 'hide', 'hideOthers', 'unhide', '-', 'quit']);
    expect(names(menu(template, 'File'))).toEqual(['close']);
    expect(names(menu(template, 'Edit'))).toEqual(['undo', 'redo', '-', 'cut', 'copy', 'paste', 'pasteAndMatchStyle', 'delete', '-', 'selectAll']);
    expect(names(menu(template, 'Window'))).toEqual(['minimize', 'zoom', '-', 'front']);
    expect(names(menu(template, 'Help'))).toEqual(['documentation', 'copy-endpoint']);
    expect(template.find((m) => m.label === 'Help')?.role).toBe('help');
  });

  for (const platform of ['linux', 'win32'] as const) {
    it(`${platform}: no app menu; File has Close and Quit, Help has About; Alt mnemonics`, () => {
      const template = appMenuTemplate(options(platform));
      expect(template.map((m) => m.label)).toEqual(['&File', '&Edit', '&View', '&Window', '&Help']);
      expect(names(menu(template, 'File'))).toEqual(['close', '-', 'quit']);
      expect(names(menu(template, 'Edit'))).toEqual(['undo', 'redo', '-', 'cut', 'copy', 'paste', 'delete', '-', 'selectAll']);
      expect(names(menu(template, 'Window'))).toEqual(['minimize', 'close']);
      expect(names(menu(template, 'Help'))).toEqual(['documentation', 'copy-endpoint', '-', 'about']);
      expect(names(menu(template, 'Help')).filter((n) => ['services', 'hide', 'front', 'zoom'].includes(n))).toEqual([]);
    });
  }

  for (const platform of ['darwin', 'linux', 'win32'] as const) {
    it(`${platform}: View has reload, zoom and full screen; the developer tools only when not packaged`, () => {
      const packaged = appMenuTemplate(options(platform, { packaged: true }));
      expect(names(menu(packaged, 'View'))).toEqual(['reload', '-', 'resetZoom', 'zoomIn', 'zoomOut', '-', 'togglefullscreen']);
      const development = appMenuTemplate(options(platform, { packaged: false }));
      expect(names(menu(development, 'View'))).toEqual([
        'reload', 'forceReload', 'toggleDevTools', '-', 'resetZoom', 'zoomIn', 'zoomOut', '-', 'togglefullscreen',
      ]);
    });

    it(`${platform}: Quit is Electron's quit role (app.quit, so main.ts's stop runs) and shortcuts come from roles`, () => {
      const items = allItems(appMenuTemplate(options(platform)));
      expect(items.filter((i) => i.role === 'quit')).toHaveLength(1);
      // No hand-written accelerators that could clash with the OS's.
      expect(items.filter((i) => i.accelerator !== undefined)).toEqual([]);
    });

    it(`${platform}: About, Documentation and Copy FHIR endpoint address call their actions`, () => {
      const o = options(platform);
      const items = allItems(appMenuTemplate(o));
      click(items.find((i) => i.id === 'about'));
      click(items.find((i) => i.id === 'documentation'));
      click(items.find((i) => i.id === 'copy-endpoint'));
      expect(o.calls).toEqual(['about', 'docs', 'copy']);
      expect(items.find((i) => i.id === 'about')?.label).toBe('About Flint');
      expect(items.find((i) => i.id === 'copy-endpoint')?.label).toBe('Copy FHIR endpoint address');
      expect(items.find((i) => i.id === 'documentation')?.enabled).toBe(true);
    });
  }

  it('Documentation is disabled when there is nothing to open', () => {
    const items = allItems(appMenuTemplate(options('linux', { documentation: undefined })));
    expect(items.find((i) => i.id === 'documentation')?.enabled).toBe(false);
  });
});

describe('documentationTarget', () => {
  const none = () => false;

  it('an https homepage', () => {
    expect(documentationTarget('https://flint.example/docs', [], none)).toEqual({ url: 'https://flint.example/docs' });
  });

  it('no homepage, or one that is not https: the first local file that exists (real files)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-docs-'));
    try {
      const shipped = join(dir, 'resources', 'README.md');
      const checkout = join(dir, 'README.md');
      writeFileSync(checkout, '# Flint\n');
      for (const homepage of [undefined, '', 'http://flint.example/docs', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', 42]) {
        expect(documentationTarget(homepage, [shipped, checkout], existsSync)).toEqual({ path: checkout });
      }
      writeFileSync(join(dir, 'shipped'), '');
      expect(documentationTarget(undefined, [join(dir, 'shipped'), checkout], existsSync)).toEqual({ path: join(dir, 'shipped') });
      expect(documentationTarget(undefined, [shipped], existsSync)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
