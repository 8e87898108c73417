/** Builds the CapabilityStatement from the route registry and the definitions. */
import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestSecurity } from '@medplum/fhirtypes';
import type { Definitions } from './definitions';
import { INSTANTIATES, operations, routes, type SystemInteraction, type TypeInteraction } from './registry';
import { parseCriteria } from '../search/criteria';

const SYSTEM: ReadonlySet<string> = new Set<SystemInteraction>(['transaction', 'batch', 'history-system', 'search-system']);

export const FLINT_VERSION = '0.1.0';

/** Built once per definitions and base URL: it only changes with the code. */
const cache = new WeakMap<Definitions, Map<string, CapabilityStatement>>();

export function capabilityStatement(
  defs: Definitions,
  baseUrl: string,
  compartments: readonly string[] = [],
  security?: CapabilityStatementRestSecurity,
): CapabilityStatement {
  let byBase = cache.get(defs);
  if (!byBase) cache.set(defs, (byBase = new Map()));
  let cs = byBase.get(baseUrl);
  if (!cs) byBase.set(baseUrl, (cs = buildCapabilityStatement(defs, baseUrl, compartments, security)));
  return cs;
}

function buildCapabilityStatement(
  defs: Definitions,
  baseUrl: string,
  compartments: readonly string[],
  security: CapabilityStatementRestSecurity | undefined,
): CapabilityStatement {
  const typeInteractions = routes
    .map((r) => r.interaction)
    .filter((i): i is TypeInteraction => i !== undefined && !SYSTEM.has(i) && i !== 'capabilities');
  const conditional = new Set(routes.map((r) => r.conditional).filter(Boolean));
  const typeOps = operations.filter((o) => o.level.includes('type') || o.level.includes('instance'));
  const resource: CapabilityStatementRestResource[] = defs.resourceTypes.map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: [...new Set(typeInteractions)].map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: conditional.has('create'),
    conditionalRead: 'not-supported',
    conditionalUpdate: conditional.has('update'),
    conditionalDelete: conditional.has('delete') ? 'multiple' : 'not-supported',
    searchParam: supportedSearchParams(defs, type),
    operation: typeOps.filter((o) => !o.types || o.types.includes(type)).map((o) => ({ name: o.name, definition: o.definition })),
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    instantiates: [...INSTANTIATES],
    software: { name: 'Flint', version: FLINT_VERSION },
    implementation: { description: 'Flint offline-first FHIR workstation', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        ...(security ? { security } : {}),
        resource,
        interaction: [...new Set(routes.map((r) => r.interaction).filter((i): i is SystemInteraction => i !== undefined && SYSTEM.has(i)))].map(
          (code) => ({ code: code as 'transaction' | 'batch' | 'history-system' | 'search-system' }),
        ),
        compartment: [...compartments],
        operation: operations.filter((o) => o.level.includes('system')).map((o) => ({ name: o.name, definition: o.definition })),
      },
    ],
  };
}

/** Only the parameters the search engine actually evaluates are claimed. */
function supportedSearchParams(defs: Definitions, type: string): CapabilityStatementRestResource['searchParam'] {
  const out: NonNullable<CapabilityStatementRestResource['searchParam']> = [];
  for (const p of defs.searchParams(type).values()) {
    if (parseCriteria(defs, type, new URLSearchParams([[p.code, 'x']])).unsupported.length > 0) continue;
    out.push({ name: p.code, type: p.type, definition: p.url });
  }
  return out;
}
