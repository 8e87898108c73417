/** Test helpers: minimal AuditEvents and an in-memory SecretStore (unit tests only). */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { SecretStore } from '../../secrets/secret-store';

/** A read of Patient/<patient> at `recorded`; `marker` lands in the entity's display. */
export function auditEvent(recorded: Date, patient = 'p1', marker?: string): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
    action: 'R',
    recorded: recorded.toISOString(),
    outcome: '0',
    agent: [{ who: { display: 'dr-test' }, requestor: true, network: { address: '127.0.0.1', type: '2' } }],
    source: { observer: { display: 'flint-test' } },
    entity: [{ what: { reference: `Patient/${patient}`, ...(marker ? { display: marker } : {}) } }],
  };
}

export class MemorySecretStore implements SecretStore {
  readonly values = new Map<string, string>();
  /** Calls to set(), to see that head saves are coalesced. */
  sets = 0;
  /** While set, set() fails (a locked keychain). */
  failSets = false;

  async get(account: string): Promise<string | null> {
    return this.values.get(account) ?? null;
  }

  async set(account: string, value: string): Promise<void> {
    this.sets++;
    await new Promise((r) => setTimeout(r, 1)); // a keychain call takes a while
    if (this.failSets) throw new Error('keychain locked');
    this.values.set(account, value);
  }

  async delete(account: string): Promise<boolean> {
    return this.values.delete(account);
  }
}
