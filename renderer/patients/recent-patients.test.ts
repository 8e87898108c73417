import { describe, expect, it } from 'vitest';
import { RECENT_LIMIT, RecentPatients, recentPatientsOf } from './recent-patients';

const patient = (id: string) => ({ resourceType: 'Patient' as const, id, name: [{ family: `F${id}` }], birthDate: '1990-01-01', telecom: [{ value: 'secret' }] });

describe('recent patients', () => {
  it('keeps the last ten opened, most recent first, each once, with a few fields only', () => {
    const r = new RecentPatients();
    for (let i = 0; i < 12; i++) r.remember(patient(String(i)));
    r.remember(patient('5'));
    expect(r.current.map((p) => p.id)).toEqual(['5', '11', '10', '9', '8', '7', '6', '4', '3', '2']);
    expect(r.current).toHaveLength(RECENT_LIMIT);
    expect(Object.keys(r.current[0]!).sort()).toEqual(['birthDate', 'gender', 'id', 'identifier', 'name']);
    r.forget('11');
    expect(r.current.map((p) => p.id)).not.toContain('11');
  });

  it('is one list per session and is emptied when the session signs out', () => {
    let listener: ((s: string) => void) | undefined;
    const session = { subscribe: (fn: (s: string) => void) => ((listener = fn), () => undefined) };
    const a = recentPatientsOf(session);
    expect(recentPatientsOf(session)).toBe(a);
    expect(recentPatientsOf({ subscribe: () => () => undefined })).not.toBe(a);
    a.remember(patient('x'));
    listener!('locked');
    expect(a.current).toHaveLength(1);
    listener!('signed-out');
    expect(a.current).toHaveLength(0);
  });
});
