/**
 * For component tests (jsdom): a screen inside what the app gives it, a fresh query cache,
 * a FlintContext made of the test's parts, and a memory data router at `path`, with `path()` to
 * read where the router is now. Not part of the UI bundle (nothing the app imports uses it).
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, type RenderResult } from '@testing-library/react';
import type { ReactNode } from 'react';
import { RouterProvider, createMemoryRouter, useLocation } from 'react-router';
import { FlintContext, type FlintContextValue } from './flint-context';

/** Whatever part of the context a test gives; the rest is left out (a screen that uses it fails loudly). */
export type TestContext = { [K in keyof FlintContextValue]?: unknown };

export function renderScreen(screen: ReactNode, o: { ctx: TestContext; path?: string }): RenderResult & { path: () => string } {
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  let path = o.path ?? '/';
  function Where() {
    path = useLocation().pathname;
    return <output data-testid="where" hidden>{path}</output>;
  }
  // A data router, as the app uses (screens may block navigation while a form is unsaved).
  const router = createMemoryRouter(
    [
      {
        path: '*',
        element: (
          <>
            {screen}
            <Where />
          </>
        ),
      },
    ],
    { initialEntries: [o.path ?? '/'] },
  );
  const result = render(
    <QueryClientProvider client={queries}>
      <FlintContext.Provider value={{ can: () => true, ...o.ctx } as FlintContextValue}>
        <RouterProvider router={router} />
      </FlintContext.Provider>
    </QueryClientProvider>,
  );
  return Object.assign(result, { path: () => path });
}
