/**
 * Page size and cursor handling shared by history and search Bundles. Cursors are
 * opaque to clients: the sort key of the last entry on the page, so later pages are
 * "strictly after" it and writes made meanwhile neither repeat nor skip entries.
 */
import type { BundleLink } from '@medplum/fhirtypes';
import { badRequest } from '../../../shared/fhir/outcome';
import type { FhirSettings } from './context';
import type { FhirRequest } from './types';

export function pageSize(query: URLSearchParams, settings: FhirSettings): number {
  const raw = query.get('_count');
  if (raw === null) return settings.defaultPageSize;
  if (!/^\d+$/.test(raw)) throw badRequest('_count must be a non-negative integer');
  return Math.min(Number(raw), settings.maxPageSize);
}

export const encodeCursor = (key: string): string => Buffer.from(key, 'utf8').toString('base64url');

export function decodeCursor(query: URLSearchParams): string | undefined {
  const raw = query.get('_cursor');
  if (raw === null) return undefined;
  const key = Buffer.from(raw, 'base64url').toString('utf8');
  if (key.length === 0) throw badRequest('Invalid paging cursor');
  return key;
}

/**
 * self, first and next links; `next` carries the cursor and the same parameters. (History
 * pages only forward, newest first: it has no `last` link.)
 */
export function pageLinks(req: FhirRequest, nextCursor: string | undefined): BundleLink[] {
  const path = `${req.baseUrl}/${req.path.join('/')}`.replace(/\/$/, '');
  const self = new URLSearchParams(req.query);
  const first = new URLSearchParams(req.query);
  first.delete('_cursor');
  const links: BundleLink[] = [
    { relation: 'self', url: withQuery(path, self) },
    { relation: 'first', url: withQuery(path, first) },
  ];
  if (nextCursor !== undefined) {
    const next = new URLSearchParams(req.query);
    next.set('_cursor', encodeCursor(nextCursor));
    links.push({ relation: 'next', url: withQuery(path, next) });
  }
  return links;
}

const withQuery = (path: string, q: URLSearchParams): string => {
  const s = q.toString();
  return s ? `${path}?${s}` : path;
};
