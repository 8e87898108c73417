/**
 * How an AuditEvent reads in the viewer: who (the user, the app, or the other party),
 * what (action, type and subtype), on what (entities, the query a search asked) and how
 * it ended. Follows the events Flint records (main/core/audit/audit-event.ts, IHE BALP).
 * Pure; tested in audit-format.test.ts.
 */
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import { ACTIONS, CLIENT_SYSTEM, OUTCOMES, USER_SYSTEM } from './audit-query';

export const WORKSTATION_SYSTEM = 'urn:flint:workstation';
const QUERY_ROLE = '24';

export interface Who {
  /** The local user (for a failed login: the name claimed, not proven). */
  user?: string;
  claimed?: boolean;
  /** The app's client id. */
  app?: string;
  /** Another party (the central server of a sync), when no user or app acted. */
  other?: string;
}

const identifierOf = (a: AuditEventAgent, system: string) => (a.who?.identifier?.system === system ? a.who.identifier.value : undefined);

export function whoOf(e: AuditEvent): Who {
  const agents = e.agent ?? [];
  const w: Who = {};
  for (const a of agents) {
    const user = identifierOf(a, USER_SYSTEM);
    if (user && !w.user) w.user = user;
    const app = identifierOf(a, CLIENT_SYSTEM);
    if (app && !w.app) w.app = app;
  }
  if (!w.user) {
    // A failed login names who it claimed to be, as text only.
    const claimed = agents.find((a) => a.requestor && a.who?.display && !a.who.identifier && !a.who.reference);
    if (claimed) {
      w.user = claimed.who!.display!;
      w.claimed = true;
    } else {
      const fhirUser = agents.find((a) => a.requestor && a.who?.reference)?.who?.reference;
      if (fhirUser) w.user = fhirUser;
    }
  }
  if (!w.user && !w.app) {
    const other = agents.find((a) => identifierOf(a, WORKSTATION_SYSTEM) === undefined && (a.who?.display || a.network?.address));
    if (other) w.other = other.who?.display ?? other.network?.address;
  }
  return w;
}

export function whoText(w: Who): string {
  const user = w.user ? (w.claimed ? `${w.user} (claimed)` : w.user) : undefined;
  if (user && w.app) return `${user} via ${w.app}`;
  return user ?? w.app ?? w.other ?? 'this workstation';
}

export const actionText = (a: string | undefined): string => (a && a in ACTIONS ? ACTIONS[a as keyof typeof ACTIONS] : (a ?? ''));
export const outcomeText = (o: string | undefined): string => (o && o in OUTCOMES ? OUTCOMES[o as keyof typeof OUTCOMES] : (o ?? ''));
export const outcomeTone = (o: string | undefined): 'ok' | 'warn' | 'error' => (o === '0' ? 'ok' : o === '4' ? 'warn' : 'error');

const codingText = (c: Coding | undefined) => c?.display ?? c?.code ?? '';

export function typeText(e: AuditEvent): string {
  return codingText(e.type);
}

/** The subtypes, most specific last: `read`, `Login, login-failure`. */
export function subtypeText(e: AuditEvent): string {
  return (e.subtype ?? []).map(codingText).filter(Boolean).join(', ');
}

/** A query entity's request text (BALP keeps it base64). */
export function decodeQuery(b64: string | undefined): string | undefined {
  if (!b64) return undefined;
  try {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

export const isQueryEntity = (x: AuditEventEntity) => x.role?.code === QUERY_ROLE || (!!x.query && !x.what);

export function entityText(x: AuditEventEntity): string {
  if (isQueryEntity(x)) return decodeQuery(x.query) ?? '(a query)';
  const what = x.what;
  const name = what?.reference ?? what?.display ?? what?.identifier?.value ?? '';
  return name || (x.detail ?? []).map((d) => `${d.type}: ${d.valueString ?? ''}`).join(', ');
}

/** The entities for the table: records first, then the query. */
export function entitiesText(e: AuditEvent): string {
  const list = e.entity ?? [];
  const records = list.filter((x) => !isQueryEntity(x)).map(entityText).filter(Boolean);
  const queries = list.filter(isQueryEntity).map(entityText);
  return [...new Set([...records, ...queries])].join(' · ');
}

export function entityRoleText(x: AuditEventEntity): string {
  return [codingText(x.role), codingText(x.type)].filter(Boolean).join(' / ');
}

export function agentRoleText(a: AuditEventAgent): string {
  return (a.type?.coding ?? []).map(codingText).filter(Boolean).join(', ') || (a.role ?? []).map((r) => r.text ?? codingText(r.coding?.[0])).join(', ');
}

export function agentWhoText(a: AuditEventAgent): string {
  const who = a.who;
  const parts: string[] = [];
  if (who?.identifier?.value) {
    const system = who.identifier.system;
    const kind = system === USER_SYSTEM ? 'user' : system === CLIENT_SYSTEM ? 'app' : system === WORKSTATION_SYSTEM ? 'workstation' : (system ?? '');
    parts.push(kind ? `${kind} ${who.identifier.value}` : who.identifier.value);
  }
  if (who?.reference) parts.push(who.reference);
  if (!parts.length && who?.display) parts.push(who.display);
  if (!parts.length && a.name) parts.push(a.name);
  return parts.join(', ');
}
