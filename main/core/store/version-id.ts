/**
 * Version ids are `<n>.<workstationId>`: n counts versions of the resource (1, 2, ...),
 * the suffix makes the id unique across workstations, so two workstations that both
 * write version 3 of a resource while offline produce two distinct, addressable versions
 * (docs/decisions.md, "Versions"). Both parts are legal FHIR id characters.
 */
export function makeVersionId(n: number, workstationId: string): string {
  return `${n}.${workstationId}`;
}

export function versionNumber(vid: string): number {
  const n = Number.parseInt(vid.split('.')[0] ?? '', 10);
  return Number.isFinite(n) ? n : 0;
}

/** lastUpdated strictly after the previous version's, even if the clock went back. */
export function nextTimestamp(previous: string | undefined, now: Date = new Date()): string {
  let t = now.getTime();
  if (previous) {
    const p = Date.parse(previous);
    if (Number.isFinite(p) && t <= p) t = p + 1;
  }
  return new Date(t).toISOString();
}
