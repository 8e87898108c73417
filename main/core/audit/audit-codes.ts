/**
 * The code systems and codes the AuditEvent builder uses, after IHE BALP (Basic Audit Log
 * Patterns, R4) and DICOM PS3.16. Kept apart from the builder so that the choices can be
 * read (and reviewed) in one place. Codes without a standard home live in
 * `urn:flint:audit-subtype` (LOCAL_SUBTYPE), always *next to* a standard coding, never
 * instead of one, so that standard queries keep working.
 */
import type { Coding } from '@medplum/fhirtypes';

export const SYS = {
  eventType: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
  restful: 'http://hl7.org/fhir/restful-interaction',
  dicom: 'http://dicom.nema.org/resources/ontology/DCM',
  iheEvent: 'urn:ihe:event-type-code',
  participation: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  provenance: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
  securityRole: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type',
  sourceType: 'http://terminology.hl7.org/CodeSystem/security-source-type',
  entityType: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
  objectRole: 'http://terminology.hl7.org/CodeSystem/object-role',
} as const;

/** Flint's own identifier systems and its local subtype code system. */
export const LOCAL = {
  subtype: 'urn:flint:audit-subtype',
  user: 'urn:flint:user',
  client: 'urn:flint:client',
  role: 'urn:flint:role',
  workstation: 'urn:flint:workstation',
  subject: 'urn:flint:subject',
} as const;

/** Frozen: the codings are shared by every event, and canonicalJson caches frozen flat objects. */
const c = (system: string, code: string, display?: string): Coding =>
  Object.freeze(display ? { system, code, display } : { system, code });

/** One shared coding per code, so that building an event allocates none of them. */
const memo = (make: (code: string) => Coding): ((code: string) => Coding) => {
  const seen = new Map<string, Coding>();
  return (code) => {
    let coding = seen.get(code);
    if (!coding) seen.set(code, (coding = make(code)));
    return coding;
  };
};

export const EVENT_TYPE = {
  rest: c(SYS.eventType, 'rest', 'Restful Operation'),
  userAuthentication: c(SYS.dicom, '110114', 'User Authentication'),
  securityAlert: c(SYS.dicom, '110113', 'Security Alert'),
  /** Sync: documents received from the central server, applied to the store. */
  import: c(SYS.dicom, '110107', 'Import'),
  /** Sync: documents sent to the central server. */
  export: c(SYS.dicom, '110106', 'Export'),
} as const;

export const DICOM_SUBTYPE = {
  login: c(SYS.dicom, '110122', 'Login'),
  logout: c(SYS.dicom, '110123', 'Logout'),
  securityConfiguration: c(SYS.dicom, '110129', 'Security Configuration'),
  securityRolesChanged: c(SYS.dicom, '110136', 'Security Roles Changed'),
  userSecurityAttributesChanged: c(SYS.dicom, '110137', 'User Security Attributes Changed'),
} as const;

/** IHE IUA ITI-71 "Get Access Token": BALP's subtype for a token the authorization server issues. */
export const ITI_71 = c(SYS.iheEvent, 'ITI-71', 'Get Access Token');

export const restful = memo((code) => c(SYS.restful, code, code));
/** Not memoized: operation names come from requests (unbounded). */
export const localSubtype = (code: string): Coding => c(LOCAL.subtype, code);

/** Agent types: BALP's client/server roles (DICOM), the user's participation (v3). */
export const AGENT_TYPE = {
  sourceRole: c(SYS.dicom, '110153', 'Source Role ID'),
  destinationRole: c(SYS.dicom, '110152', 'Destination Role ID'),
  application: c(SYS.dicom, '110150', 'Application'),
  custodian: c(SYS.provenance, 'custodian', 'Custodian'),
  informationRecipient: c(SYS.participation, 'IRCP', 'information recipient'),
  author: c(SYS.participation, 'AUT', 'author (originator)'),
  humanUser: c(SYS.securityRole, 'humanuser', 'human user'),
  authServer: c(SYS.securityRole, 'authserver', 'authorization server'),
} as const;

/** Source type 4: the workstation answers as an application server. */
export const APPLICATION_SERVER = c(SYS.sourceType, '4', 'Application Server');

export const ENTITY_TYPE = {
  person: c(SYS.entityType, '1', 'Person'),
  systemObject: c(SYS.entityType, '2', 'System Object'),
} as const;

export const ENTITY_ROLE = {
  patient: c(SYS.objectRole, '1', 'Patient'),
  domainResource: c(SYS.objectRole, '4', 'Domain Resource'),
  securityUser: c(SYS.objectRole, '11', 'Security User Entity'),
  securityGroup: c(SYS.objectRole, '12', 'Security User Group'),
  securityResource: c(SYS.objectRole, '13', 'Security Resource'),
  query: c(SYS.objectRole, '24', 'Query'),
} as const;
