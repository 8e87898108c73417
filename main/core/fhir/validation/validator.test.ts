/** The validator every write runs: how the rules beside the compiled validator combine. */
import { describe, expect, it } from 'vitest';
import { createValidator } from './validator';

describe('through the validator every write uses', () => {
  it('reports a repeated fullUrl once, per entry (not also as the bdl-7 invariant at the Bundle)', () => {
    const v = createValidator();
    const p = { resourceType: 'Patient', id: '1' };
    const issues = v.validate({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:0f0e4a4c-1e1a-4e59-9a53-7c1c3c1e0a01', resource: p }, { fullUrl: 'urn:uuid:0f0e4a4c-1e1a-4e59-9a53-7c1c3c1e0a01', resource: p }] } as never);
    const bdl7 = issues.filter((i) => i.diagnostics?.includes('bdl-7'));
    expect(bdl7.map((i) => i.expression?.[0])).toEqual(['Bundle.entry[1].fullUrl']);
  });

  it("does not report best-practice invariants (dom-6): a Patient without narrative has no issue", () => {
    const issues = createValidator().validate({ resourceType: 'Patient', name: [{ family: 'Ash' }] } as never);
    expect(issues).toEqual([]);
  });

  it('built on first use when lazy (flint serve), with the same verdicts', () => {
    const eager = createValidator();
    const lazy = createValidator({ lazy: true });
    const resources = [
      { resourceType: 'Patient', name: [{ family: 'Ash' }] },
      { resourceType: 'Patient', gender: 'unknown-gender', birthDate: '1970-13-01' },
      { resourceType: 'Observation', status: 'final', code: {} },
      { resourceType: 'Encounter', class: { code: 'AMB' } },
    ];
    for (const r of resources) expect(lazy.validate(r as never)).toEqual(eager.validate(r as never));
    expect(lazy.validate(resources[1] as never).length).toBeGreaterThan(0);
  });
});
