/**
 * The last patients opened in this session, most recent first (at most 10). Names and
 * birth dates are PHI, so they live in this page's memory only (never localStorage or
 * sessionStorage), one list per AuthClient, emptied when the session signs out: the next
 * user of the workstation does not see who was opened before.
 */
import type { Patient } from '@medplum/fhirtypes';
import { useSyncExternalStore } from 'react';

export const RECENT_LIMIT = 10;

/** What the list shows of a patient: a copy of a few fields, not the whole record. */
export interface RecentPatient {
  id: string;
  name: Patient['name'];
  gender: Patient['gender'];
  birthDate: Patient['birthDate'];
  identifier: Patient['identifier'];
}

/** Anything that says when the session signs out (the AuthClient). */
export interface SessionEvents {
  subscribe(fn: (state: string) => void): () => void;
}

export class RecentPatients {
  private list: readonly RecentPatient[] = [];
  private readonly listeners = new Set<() => void>();

  get current(): readonly RecentPatient[] {
    return this.list;
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  remember(p: Patient): void {
    if (!p.id) return;
    const entry: RecentPatient = { id: p.id, name: p.name, gender: p.gender, birthDate: p.birthDate, identifier: p.identifier };
    this.set([entry, ...this.list.filter((x) => x.id !== p.id)].slice(0, RECENT_LIMIT));
  }

  forget(id: string): void {
    if (this.list.some((x) => x.id === id)) this.set(this.list.filter((x) => x.id !== id));
  }

  clear(): void {
    if (this.list.length) this.set([]);
  }

  private set(list: readonly RecentPatient[]): void {
    this.list = list;
    for (const fn of this.listeners) fn();
  }
}

const stores = new WeakMap<SessionEvents, RecentPatients>();

/** The list of a session (made on first use, cleared on sign-out). */
export function recentPatientsOf(session: SessionEvents): RecentPatients {
  let store = stores.get(session);
  if (!store) {
    const made = new RecentPatients();
    session.subscribe((state) => {
      if (state === 'signed-out') made.clear();
    });
    stores.set(session, made);
    store = made;
  }
  return store;
}

export function useRecentPatients(session: SessionEvents): readonly RecentPatient[] {
  const store = recentPatientsOf(session);
  return useSyncExternalStore(store.subscribe, () => store.current);
}
