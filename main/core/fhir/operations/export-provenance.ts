/**
 * includeAssociatedData (FHIR Bulk Data Access 2.0): the Provenance resources whose `target`
 * names a resource the export returned. RelevantProvenanceResources: every such Provenance;
 * LatestProvenanceResources: per returned resource, the most recent one (by `recorded`,
 * then by last update). A Provenance the export returned already is not returned again, and
 * only Provenance the caller may search is considered (its scope for the type applies).
 */
import type { Provenance, Resource } from '@medplum/fhirtypes';
import type { Criterion } from '../../search/criteria';

/** Provenance heads read at a time. */
const READ_BATCH = 500;

/** `Type/id` of a reference (relative, absolute or versioned); undefined for others (urn:, #). */
export function referenceKey(reference: string | undefined): string | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference ?? '');
  return m ? `${m[1]}/${m[2]}` : undefined;
}

export interface AssociatedProvenanceArgs {
  mode: 'latest' | 'relevant';
  /** `Type/id` of every non-Provenance resource the export returned. */
  exported: ReadonlySet<string>;
  /** Ids of the Provenance resources the export returned itself. */
  exportedProvenance: ReadonlySet<string>;
  /** Ids of Provenance resources matching these criteria (the caller's scope). */
  matchIds: (type: string, criteria: readonly Criterion[]) => string[];
  scope: readonly Criterion[];
  /** The resources of these Provenance ids as of the export's transaction time. */
  read: (ids: string[]) => Promise<Resource[]>;
}

export async function* associatedProvenance(args: AssociatedProvenanceArgs): AsyncGenerator<Resource[]> {
  const ids = args.matchIds('Provenance', args.scope).filter((id) => !args.exportedProvenance.has(id)).sort();
  /** Latest: per target, the most recent Provenance so far. */
  const latest = new Map<string, { provenance: Provenance; at: [number, number] }>();
  for (let i = 0; i < ids.length; i += READ_BATCH) {
    const found: Resource[] = [];
    for (const r of await args.read(ids.slice(i, i + READ_BATCH))) {
      const p = r as Provenance;
      const targets = (p.target ?? []).map((t) => referenceKey(t.reference)).filter((k): k is string => k !== undefined && args.exported.has(k));
      if (targets.length === 0) continue;
      if (args.mode === 'relevant') {
        found.push(p);
        continue;
      }
      const at: [number, number] = [Date.parse(p.recorded ?? '') || 0, Date.parse(p.meta?.lastUpdated ?? '') || 0];
      for (const k of targets) {
        const best = latest.get(k);
        if (!best || at[0] > best.at[0] || (at[0] === best.at[0] && at[1] > best.at[1])) latest.set(k, { provenance: p, at });
      }
    }
    if (found.length > 0) yield found;
  }
  if (args.mode === 'latest' && latest.size > 0) {
    const chosen = new Map<string, Provenance>();
    for (const { provenance } of latest.values()) chosen.set(provenance.id!, provenance);
    const list = [...chosen.values()];
    for (let i = 0; i < list.length; i += READ_BATCH) yield list.slice(i, i + READ_BATCH);
  }
}
