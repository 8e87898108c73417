/** Who made a /flint request, as the audit trail records it (docs/audit.md). */
import type { AuditAgent } from '../audit/types';
import type { AuthedFlintRequest } from './types';

export function agentOf(req: AuthedFlintRequest): AuditAgent {
  const p = req.principal;
  const a: AuditAgent = { clientId: p.clientId };
  if (p.username) a.username = p.username;
  if (p.fhirUser) a.fhirUser = p.fhirUser;
  // Backend services (`client:`) and `flint token create` (`cli:`) are no local user.
  if (!p.subject.startsWith('client:') && !p.subject.startsWith('cli:')) a.userId = p.subject;
  if (req.address) a.address = req.address;
  return a;
}
