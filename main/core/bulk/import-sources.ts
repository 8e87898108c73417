/**
 * What a bulk import reads (issue 13: `flint import` and `$import`): files and folders of
 * NDJSON, FHIR Bundles and Synthea output, turned into a stream of items in the order they
 * must be written:
 *   resource  one resource, from an NDJSON line, a JSON file holding one resource, or an
 *             entry of a collection (or searchset) Bundle; written under its own id
 *   bundle    a transaction or batch Bundle, processed whole as the FHIR API would (its
 *             urn:uuid and conditional references resolved there)
 *   error     a line or file that cannot be read as FHIR JSON: reported with where it is,
 *             and the rest goes on
 * Folders are read in name order, except that Synthea's `hospitalInformation*` and
 * `practitionerInformation*` Bundles come first: patient Bundles refer to them by
 * conditional references. Numbers keep their exact text (shared/fhir/exact-json.ts).
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parseJson } from '../../../shared/fhir/exact-json';

export type ImportItem =
  | { kind: 'resource'; resource: Resource; source: string; line: number }
  | { kind: 'bundle'; bundle: Bundle; source: string }
  | { kind: 'error'; source: string; line: number; message: string };

/** Files larger than this are not read whole: a Bundle this big should be NDJSON. */
export const MAX_JSON_FILE_BYTES = 256 * 1024 * 1024;

const SYNTHEA_FIRST = /^(hospitalInformation|practitionerInformation)/;

/** The files under the given paths, in the order they are imported. */
export function importFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!statSync(p).isDirectory()) {
      out.push(p);
      continue;
    }
    const names = readdirSync(p).filter((n) => /\.(ndjson|json)$/i.test(n));
    const first = names.filter((n) => SYNTHEA_FIRST.test(n)).sort();
    const rest = names.filter((n) => !SYNTHEA_FIRST.test(n)).sort();
    for (const n of [...first, ...rest]) {
      const f = join(p, n);
      if (statSync(f).isFile()) out.push(f);
    }
  }
  return out;
}

export async function* readImportSources(paths: readonly string[]): AsyncGenerator<ImportItem> {
  for (const file of importFiles(paths)) {
    if (/\.ndjson$/i.test(file)) yield* readNdjson(file, createReadStream(file, { encoding: 'utf8' }));
    else yield* readJsonFile(file);
  }
}

/**
 * An NDJSON or JSON document served on loopback (an `http(s)://` input of `$import`), read
 * as it arrives: nothing of it is written to disk. NDJSON when the URL ends in .ndjson or
 * the server says so; otherwise one JSON Bundle or resource.
 */
export async function* readImportUrl(url: URL, fetchImpl: typeof fetch = fetch): AsyncGenerator<ImportItem> {
  const name = url.pathname.split('/').pop() || url.host;
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: { accept: 'application/fhir+ndjson, application/fhir+json' }, redirect: 'error' });
  } catch {
    yield { kind: 'error', source: name, line: 0, message: 'the input could not be fetched' };
    return;
  }
  if (!res.ok || !res.body) {
    yield { kind: 'error', source: name, line: 0, message: `the input answered HTTP ${res.status}` };
    return;
  }
  const type = res.headers.get('content-type') ?? '';
  if (/\.ndjson$/i.test(url.pathname) || /ndjson/i.test(type)) {
    yield* readNdjson(name, Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>).setEncoding('utf8'));
    return;
  }
  if (Number(res.headers.get('content-length') ?? 0) > MAX_JSON_FILE_BYTES) {
    yield { kind: 'error', source: name, line: 0, message: `the input is larger than ${MAX_JSON_FILE_BYTES} bytes; serve it as NDJSON` };
    return;
  }
  yield* fromJsonText(name, await res.text());
}

async function* readNdjson(file: string, input: NodeJS.ReadableStream): AsyncGenerator<ImportItem> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    const parsed = parse(text);
    if ('message' in parsed) yield { kind: 'error', source: file, line, message: parsed.message };
    else yield { kind: 'resource', resource: parsed.resource, source: file, line };
  }
}

async function* readJsonFile(file: string): AsyncGenerator<ImportItem> {
  if (statSync(file).size > MAX_JSON_FILE_BYTES) {
    yield { kind: 'error', source: file, line: 0, message: `the file is larger than ${MAX_JSON_FILE_BYTES} bytes; give it as NDJSON` };
    return;
  }
  yield* fromJsonText(file, await readFile(file, 'utf8'));
}

async function* fromJsonText(file: string, text: string): AsyncGenerator<ImportItem> {
  const parsed = parse(text.replace(/^\uFEFF/, ''));
  if ('message' in parsed) {
    yield { kind: 'error', source: file, line: 0, message: parsed.message };
    return;
  }
  const r = parsed.resource;
  if (r.resourceType !== 'Bundle') {
    yield { kind: 'resource', resource: r, source: file, line: 0 };
    return;
  }
  const bundle = r as Bundle;
  if (bundle.type === 'transaction' || bundle.type === 'batch') {
    yield { kind: 'bundle', bundle, source: file };
    return;
  }
  // A collection (or a searchset someone saved): its entries are the resources.
  for (const [i, e] of (bundle.entry ?? []).entries()) {
    if (e.resource) yield { kind: 'resource', resource: e.resource, source: file, line: i + 1 };
    else yield { kind: 'error', source: file, line: i + 1, message: `entry ${i + 1} has no resource` };
  }
}

function parse(text: string): { resource: Resource } | { message: string } {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    // The parser's message may quote the text: say no more than what is wrong.
    return { message: 'not valid JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { message: 'not a JSON object' };
  const rt = (value as { resourceType?: unknown }).resourceType;
  if (typeof rt !== 'string' || rt === '') return { message: 'no resourceType' };
  return { resource: value as Resource };
}

/** Where an item came from, for reports: the file's name and line, never its content. */
export const itemPlace = (item: ImportItem): string =>
  `${basename(item.source)}${item.kind !== 'bundle' && item.line > 0 ? `:${item.line}` : ''}`;
