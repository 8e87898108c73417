/** Reading and decoding request bodies, with a size limit and clear FHIR errors. */
import type { IncomingMessage } from 'node:http';
import { NumberRangeError, exactNumberTexts, keepDecimalTexts, withDecimalTexts } from '../../../shared/fhir/exact-json';
import { badRequest, payloadTooLarge, unsupportedMediaType } from '../../../shared/fhir/outcome';

export const JSON_TYPES = new Set(['application/fhir+json', 'application/json', 'application/json-patch+json']);
export const FORM_TYPE = 'application/x-www-form-urlencoded';

export function mediaType(header: string | undefined): { type: string; charset?: string } | undefined {
  if (!header) return undefined;
  const [type = '', ...params] = header.split(';').map((s) => s.trim());
  const out: { type: string; charset?: string } = { type: type.toLowerCase() };
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (k?.toLowerCase() === 'charset' && v) out.charset = v.toLowerCase();
  }
  return out;
}

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(`The body exceeds the limit of ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw payloadTooLarge(`The body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Decodes a body by media type: JSON (BOM tolerated) or a search form. */
export function decodeBody(raw: Buffer, contentType: string | undefined): { body?: unknown; type?: string } {
  if (raw.length === 0) return {};
  const mt = mediaType(contentType);
  if (!mt) throw unsupportedMediaType('A body needs a Content-Type: application/fhir+json');
  if (mt.charset && mt.charset !== 'utf-8' && mt.charset !== 'utf8') throw unsupportedMediaType('Only UTF-8 bodies are accepted');
  let text = raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (mt.type === FORM_TYPE) return { body: text, type: mt.type };
  if (!JSON_TYPES.has(mt.type)) {
    throw unsupportedMediaType('Unsupported Content-Type; use application/fhir+json (XML is not supported)');
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw badRequest('The body is not valid JSON');
  }
  if (depthExceeds(body, MAX_JSON_DEPTH)) throw badRequest(`The body nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    keepDecimalTexts(body, text);
    // A JSON Patch is not a resource: the texts of its values, by path in the document.
    if (mt.type === 'application/json-patch+json') withDecimalTexts(body, exactNumberTexts(text));
  } catch (e) {
    if (e instanceof NumberRangeError) throw badRequest(e.message);
    throw e;
  }
  return { body, type: mt.type };
}

/**
 * FHIR resources nest a few dozen levels at most; far deeper input only serves to
 * exhaust the recursive code that walks resources (validation, reference rewriting).
 */
export const MAX_JSON_DEPTH = 256;

/** Iterative, so the check itself cannot overflow the stack. */
export function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
