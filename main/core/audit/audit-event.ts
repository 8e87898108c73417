/**
 * Turns audit records (./types.ts) into R4 AuditEvents after IHE BALP (Basic Audit Log
 * Patterns): one event per record, pure, no I/O. The codes are in ./audit-codes.ts; the
 * choices that BALP leaves open are explained where they are made.
 *
 * What never goes in: request or response bodies, passwords, tokens. A search is recorded
 * as BALP asks (the raw request, base64, in entity.query) because the auditor must see what
 * was asked; the event lives in the encrypted audit store like the data it is about.
 */
import { isIP } from 'node:net';
import type { AuditEvent, AuditEventAgent, AuditEventEntity, AuditEventSource, Coding, Identifier } from '@medplum/fhirtypes';
import {
  AGENT_TYPE,
  APPLICATION_SERVER,
  DICOM_SUBTYPE,
  ENTITY_ROLE,
  ENTITY_TYPE,
  EVENT_TYPE,
  ITI_71,
  LOCAL,
  localSubtype,
  restful,
} from './audit-codes';
import type { AccessRecord, AuditAgent, RestInteraction, SecurityKind, SecurityRecord, SyncRecord } from './types';

type Action = NonNullable<AuditEvent['action']>;
type Outcome = NonNullable<AuditEvent['outcome']>;
type Who = NonNullable<AuditEventAgent['who']>;

/**
 * C/R/U/D/E per BALP's profiles. Searches are E, not R: BALP's Query profile fixes
 * `action = E`, and R4 defines E as "... or perform a query/search operation".
 * Batch, transaction and operations run a function of the server: E as well.
 */
const ACTION: Record<RestInteraction, Action> = {
  create: 'C',
  read: 'R',
  vread: 'R',
  'history-instance': 'R',
  'history-type': 'R',
  'history-system': 'R',
  capabilities: 'R',
  update: 'U',
  patch: 'U',
  delete: 'D',
  'search-type': 'E',
  'search-system': 'E',
  'search-compartment': 'E',
  batch: 'E',
  transaction: 'E',
  operation: 'E',
};

/**
 * BALP names the client and server agents by the direction of the request: a read's data
 * flows to the client (client = Destination Role ID, server = Source Role ID, profile
 * Read); creates, updates and queries send something to the server (client = Source,
 * server = Destination, profiles Create/Update/Query); Delete uses Application/Custodian.
 * History and capabilities are reads; batch, transaction and operations send a request.
 */
const PULL = new Set<RestInteraction>(['read', 'vread', 'history-instance', 'history-type', 'history-system', 'capabilities']);
const WRITES = new Set<RestInteraction>(['create', 'update', 'patch', 'delete']);
const QUERIES = new Set<RestInteraction>(['search-type', 'search-system', 'search-compartment', 'history-type', 'history-system']);

function roles(i: RestInteraction): { client: Coding; server: Coding } {
  if (i === 'delete') return { client: AGENT_TYPE.application, server: AGENT_TYPE.custodian };
  if (PULL.has(i)) return { client: AGENT_TYPE.destinationRole, server: AGENT_TYPE.sourceRole };
  return { client: AGENT_TYPE.sourceRole, server: AGENT_TYPE.destinationRole };
}

/** 2xx and 3xx (304 Not Modified included) succeeded; 4xx is the caller's failure, 5xx ours. */
export function outcomeOf(status: number): Outcome {
  if (status < 400) return '0';
  return status < 500 ? '4' : '8';
}

export function accessEvent(r: AccessRecord, source: { workstationId: string; baseUrl?: string }): AuditEvent {
  // R4's restful-interaction has no code for a compartment search: BALP records it as search-type.
  const subtype = [restful(r.interaction === 'search-compartment' ? 'search-type' : r.interaction)];
  if (r.interaction === 'operation' && r.operation) subtype.push(localSubtype(operationName(r.operation)));
  const { client, server } = roles(r.interaction);
  const agent: AuditEventAgent[] = [];
  const user = userAgent(r.agent, WRITES.has(r.interaction) ? AGENT_TYPE.author : AGENT_TYPE.informationRecipient);
  if (user) agent.push(user);
  const app = clientAgent(r.agent, client, !user);
  if (app) agent.push(app);
  agent.push(serverAgent(source, server));
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: EVENT_TYPE.rest,
    subtype,
    action: ACTION[r.interaction],
    recorded: r.recorded.toISOString(),
    outcome: outcomeOf(r.status),
    // The status only: an OperationOutcome's text may quote the request.
    outcomeDesc: `HTTP ${r.status}`,
    agent,
    source: sourceOf(source.workstationId),
  };
  const entity = accessEntities(r);
  if (entity.length > 0) event.entity = entity;
  return event;
}

function operationName(op: string): string {
  return op.startsWith('$') ? op : `$${op}`;
}

function accessEntities(r: AccessRecord): AuditEventEntity[] {
  const out: AuditEventEntity[] = [];
  if (r.type && r.id) {
    const reference = `${r.type}/${r.id}${r.vid ? `/_history/${r.vid}` : ''}`;
    out.push({ what: { reference }, type: ENTITY_TYPE.systemObject, role: ENTITY_ROLE.domainResource });
  }
  if (QUERIES.has(r.interaction) || r.query) {
    // BALP Query: the raw request, base64, so that even a malformed or hostile one is kept exactly.
    out.push({ type: ENTITY_TYPE.systemObject, role: ENTITY_ROLE.query, query: Buffer.from(requestOf(r), 'utf8').toString('base64') });
  }
  if (r.bundleEntry !== undefined) {
    const detail = { type: 'bundle-entry', valueString: String(r.bundleEntry) };
    const first = out[0];
    if (first) first.detail = [detail];
    else out.push({ type: ENTITY_TYPE.systemObject, detail: [detail] });
  }
  if (r.counts) {
    // What a bulk operation did, as numbers only (never content).
    out.push({ type: ENTITY_TYPE.systemObject, detail: Object.entries(r.counts).map(([type, n]) => ({ type, valueString: String(n) })) });
  }
  // BALP's patient entity: what `AuditEvent?patient=` finds (one per patient, not one event each).
  for (const id of new Set(r.patients.map((p) => p.replace(/^Patient\//, '')).filter(Boolean))) {
    out.push({ what: { reference: `Patient/${id}` }, type: ENTITY_TYPE.person, role: ENTITY_ROLE.patient });
  }
  return out;
}

/** The request relative to the FHIR base, `Observation?code=x`: the query string alone would not say what was searched. */
export function requestOf(r: AccessRecord): string {
  const q = r.query ?? '';
  switch (r.interaction) {
    case 'search-system':
      return `?${q}`;
    case 'history-system':
      return `_history?${q}`;
    case 'history-type':
      return `${r.type ?? ''}/_history?${q}`;
    case 'history-instance':
      return `${r.type ?? ''}/${r.id ?? ''}/_history?${q}`;
    default:
      return `${[r.type, r.id, r.operation && operationName(r.operation)].filter(Boolean).join('/')}?${q}`;
  }
}

/**
 * The user, when one acted: `who.reference` is the fhirUser (so `agent=Practitioner/1`
 * finds it), `who.identifier` the local username (`agent:identifier=urn:flint:user|alice`),
 * altId the local user id. BALP: the user is the requestor and has no network.
 */
function userAgent(a: AuditAgent, type: Coding): AuditEventAgent | undefined {
  if (!a.username && !a.fhirUser && !a.userId) return undefined;
  return once(USER_AGENTS, JSON.stringify([a.username, a.fhirUser, a.userId, type.system, type.code]), () => buildUserAgent(a, type));
}

function buildUserAgent(a: AuditAgent, type: Coding): AuditEventAgent {
  const agent: AuditEventAgent = { type: typeOf(type), requestor: true };
  const who: Who = {};
  if (a.fhirUser) who.reference = a.fhirUser;
  if (a.username) {
    who.identifier = { system: LOCAL.user, value: a.username };
    who.display = a.username;
    agent.name = a.username;
  }
  if (who.reference || who.identifier) agent.who = who;
  if (a.userId) agent.altId = a.userId;
  return agent;
}

/** The client app and the peer address; without a user (backend service, no token) it is the requestor. */
function clientAgent(a: AuditAgent, type: Coding, requestor: boolean): AuditEventAgent | undefined {
  if (!a.clientId && !a.address) return undefined;
  return once(CLIENT_AGENTS, JSON.stringify([a.clientId, a.address, type.system, type.code, requestor]), () => buildClientAgent(a, type, requestor));
}

function buildClientAgent(a: AuditAgent, type: Coding, requestor: boolean): AuditEventAgent {
  const agent: AuditEventAgent = { type: typeOf(type), requestor };
  if (a.clientId) agent.who = { identifier: { system: LOCAL.client, value: a.clientId }, display: a.clientId };
  if (a.address) agent.network = { address: a.address, type: isIP(a.address) ? '2' : '1' };
  return agent;
}

/**
 * The parts of an event that are the same for every event of this workstation (its server
 * agent, its source, the type wrappers) are built once and deeply frozen: building an event
 * then allocates only what varies, and canonicalJson keeps the text of frozen parts.
 */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function once<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let v = cache.get(key);
  if (v === undefined) {
    // Bounded in practice (workstations, users, apps, addresses); cleared if it ever is not.
    if (cache.size > 256) cache.clear();
    cache.set(key, (v = deepFreeze(make())));
  }
  return v;
}

const SERVER_AGENTS = new Map<string, AuditEventAgent>();
/** Per user, client and address: few in a clinic, so the agents of most events are shared too. */
const USER_AGENTS = new Map<string, AuditEventAgent>();
const CLIENT_AGENTS = new Map<string, AuditEventAgent>();
const SOURCES = new Map<string, AuditEventSource>();
const WRAPPED = new WeakMap<Coding, { coding: Coding[] }>();

/** `{ coding: [coding] }`, one frozen object per shared coding. */
function typeOf(coding: Coding): { coding: Coding[] } {
  if (!Object.isFrozen(coding)) return { coding: [coding] };
  let wrapped = WRAPPED.get(coding);
  if (!wrapped) WRAPPED.set(coding, (wrapped = deepFreeze({ coding: [coding] })));
  return wrapped;
}

/** This workstation as BALP's server agent; its network is the FHIR base URL (type 5, URI). */
function serverAgent(source: { workstationId: string; baseUrl?: string }, type: Coding): AuditEventAgent {
  return once(SERVER_AGENTS, `${source.workstationId} ${source.baseUrl ?? ''} ${type.system}|${type.code}`, () => {
    const agent: AuditEventAgent = { type: typeOf(type), requestor: false, who: workstation(source.workstationId) };
    if (source.baseUrl) agent.network = { address: source.baseUrl, type: '5' };
    return agent;
  });
}

/** Untyped on purpose: it serves as agent.who and as source.observer, whose target types differ. */
function workstation(id: string): { identifier: Identifier; display: string } {
  return { identifier: { system: LOCAL.workstation, value: id }, display: `flint:${id}` };
}

function sourceOf(workstationId: string): AuditEventSource {
  return once(SOURCES, workstationId, () => ({ observer: workstation(workstationId), type: [APPLICATION_SERVER] }));
}

// ---- Security events -------------------------------------------------------------

interface SecurityCodes {
  type: Coding;
  /** The standard subtype, when there is one; the local kind code is always added. */
  subtype?: Coding;
  action: Action;
  /** Authorization-server events: the workstation takes part as the auth server. */
  auth: boolean;
}

/**
 * DICOM 110114 User Authentication for logins and the token lifecycle (IHE IUA records a
 * token request as 110114 + ITI-71; refresh is a token request too; revocation has no
 * standard subtype). DICOM 110113 Security Alert for changes to accounts, roles, apps and
 * settings, with the DICOM subtype that names what changed; those are U (C for a new app)
 * so that `action=U` lists the changes.
 */
const SECURITY: Record<SecurityKind, SecurityCodes> = {
  'login-success': { type: EVENT_TYPE.userAuthentication, subtype: DICOM_SUBTYPE.login, action: 'E', auth: true },
  'login-failure': { type: EVENT_TYPE.userAuthentication, subtype: DICOM_SUBTYPE.login, action: 'E', auth: true },
  logout: { type: EVENT_TYPE.userAuthentication, subtype: DICOM_SUBTYPE.logout, action: 'E', auth: true },
  'token-issued': { type: EVENT_TYPE.userAuthentication, subtype: ITI_71, action: 'E', auth: true },
  'token-refreshed': { type: EVENT_TYPE.userAuthentication, subtype: ITI_71, action: 'E', auth: true },
  'token-revoked': { type: EVENT_TYPE.userAuthentication, action: 'E', auth: true },
  lockout: { type: EVENT_TYPE.securityAlert, subtype: DICOM_SUBTYPE.userSecurityAttributesChanged, action: 'U', auth: false },
  'user-changed': { type: EVENT_TYPE.securityAlert, subtype: DICOM_SUBTYPE.userSecurityAttributesChanged, action: 'U', auth: false },
  'role-changed': { type: EVENT_TYPE.securityAlert, subtype: DICOM_SUBTYPE.securityRolesChanged, action: 'U', auth: false },
  'app-registered': { type: EVENT_TYPE.securityAlert, subtype: DICOM_SUBTYPE.securityConfiguration, action: 'C', auth: false },
  'app-revoked': { type: EVENT_TYPE.securityAlert, subtype: DICOM_SUBTYPE.securityConfiguration, action: 'U', auth: false },
  'settings-changed': { type: EVENT_TYPE.securityAlert, subtype: DICOM_SUBTYPE.securityConfiguration, action: 'U', auth: false },
};

export function securityEvent(r: SecurityRecord, source: { workstationId: string }): AuditEvent {
  const codes = SECURITY[r.kind];
  const subtype = codes.subtype ? [codes.subtype, localSubtype(r.kind)] : [localSubtype(r.kind)];
  const agent: AuditEventAgent[] = [];
  // A failed login names who it claimed to be, as text only: the identity was not proven.
  const user = r.kind === 'login-failure' ? claimedUser(r.agent) : userAgent(r.agent, AGENT_TYPE.humanUser);
  if (user) agent.push(user);
  const app = clientAgent(r.agent, AGENT_TYPE.application, !user);
  if (app) agent.push(app);
  if (codes.auth || agent.length === 0) agent.push(serverAgent(source, AGENT_TYPE.authServer));
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: codes.type,
    subtype,
    action: codes.action,
    recorded: r.recorded.toISOString(),
    outcome: r.ok ? '0' : '4',
    agent,
    source: sourceOf(source.workstationId),
  };
  if (r.detail) event.outcomeDesc = r.detail;
  if (r.subject) event.entity = [subjectEntity(r.subject)];
  return event;
}

function claimedUser(a: AuditAgent): AuditEventAgent | undefined {
  if (!a.username) return undefined;
  return { type: { coding: [AGENT_TYPE.humanUser] }, requestor: true, who: { display: a.username } };
}

/** `user:alice`, `app:<client_id>`, `role:<name>`: an identifier in Flint's systems. */
function subjectEntity(subject: string): AuditEventEntity {
  const colon = subject.indexOf(':');
  const kind = colon > 0 ? subject.slice(0, colon) : '';
  const value = subject.slice(colon + 1);
  if (value) {
    if (kind === 'user') return { what: { identifier: { system: LOCAL.user, value }, display: value }, type: ENTITY_TYPE.person, role: ENTITY_ROLE.securityUser };
    if (kind === 'role') return { what: { identifier: { system: LOCAL.role, value }, display: value }, type: ENTITY_TYPE.systemObject, role: ENTITY_ROLE.securityGroup };
    if (kind === 'app') return { what: { identifier: { system: LOCAL.client, value }, display: value }, type: ENTITY_TYPE.systemObject, role: ENTITY_ROLE.securityResource };
  }
  return { what: { identifier: { system: LOCAL.subject, value: subject } }, type: ENTITY_TYPE.systemObject, role: ENTITY_ROLE.securityResource };
}

// ---- Sync events -----------------------------------------------------------------

/**
 * DICOM 110107 Import for what sync received and applied (and for an arrival it
 * quarantined, outcome 4), 110106 Export for what it sent. The central server is the
 * other agent, named by its database URL; the count of documents is the entity's detail.
 * Nothing of the content goes in: BALP asks for no more than the parties and the count.
 */
export function syncEvent(r: SyncRecord, source: { workstationId: string; baseUrl?: string }): AuditEvent {
  const importing = r.sync !== 'export';
  const remote: AuditEventAgent = {
    type: typeOf(importing ? AGENT_TYPE.sourceRole : AGENT_TYPE.destinationRole),
    requestor: false,
    who: { display: r.remote },
    network: { address: r.remote, type: '5' },
  };
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: importing ? EVENT_TYPE.import : EVENT_TYPE.export,
    subtype: [localSubtype(`sync-${r.sync}`)],
    action: importing ? 'C' : 'R',
    recorded: r.recorded.toISOString(),
    outcome: r.ok ? '0' : '4',
    agent: [serverAgent(source, importing ? AGENT_TYPE.destinationRole : AGENT_TYPE.sourceRole), remote],
    source: sourceOf(source.workstationId),
  };
  if (r.detail) event.outcomeDesc = r.detail;
  const entity: AuditEventEntity = { type: ENTITY_TYPE.systemObject, detail: [{ type: 'count', valueString: String(r.count) }] };
  if (r.what) {
    entity.what = { reference: r.what };
    entity.role = ENTITY_ROLE.domainResource;
  }
  event.entity = [entity];
  return event;
}
