/**
 * The outside FHIR corpus (../shared/fhir-corpus, or FLINT_CORPUS). Third-party data:
 * read in place, never copied into the repo. Where it is absent, corpus tests say so and
 * do not run, except under CI=true, where its absence fails the run.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseJson } from '../../shared/fhir/exact-json';
import { REPO } from './workstation';

export const CORPUS = resolve(process.env.FLINT_CORPUS ?? join(REPO, '..', 'shared', 'fhir-corpus'));

export function corpusAvailable(): boolean {
  const present = existsSync(join(CORPUS, 'r4-examples'));
  if (!present) {
    if (process.env.CI === 'true') throw new Error(`FHIR corpus missing at ${CORPUS} (required under CI=true; set FLINT_CORPUS)`);
    console.warn(`FHIR corpus not found at ${CORPUS}: corpus tests do not run (set FLINT_CORPUS)`);
  }
  return present;
}

/** Parsed keeping the exact text of numbers (shared/fhir/exact-json.ts). */
export function readJson<T = unknown>(...parts: string[]): T {
  return parseJson(readFileSync(join(CORPUS, ...parts), 'utf8')) as T;
}

export function listJson(...parts: string[]): string[] {
  return readdirSync(join(CORPUS, ...parts)).filter((f) => f.endsWith('.json')).sort();
}
