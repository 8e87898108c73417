/**
 * fast-check arbitraries for hostile HTTP requests to a FHIR server, and the checks every
 * reply must pass. Used by test/integration/fuzz.int.test.ts.
 *
 * Requests are built from parts that each mix the valid with the odd: methods (standard,
 * WebDAV, unknown tokens), paths (real types and ids, unknown types, junk bytes,
 * bad percent-encoding, very long), queries, headers (content types, Accept, If-Match,
 * If-None-Exist, Prefer, ...) and bodies (valid resources, wrong types, malformed JSON,
 * a BOM, huge strings, deep nesting, arrays, numbers, Bundles with junk entries, patches,
 * raw bytes). Three in five requests are coherent FHIR interactions (matching method,
 * path, Content-Type, mostly valid bodies over a small pool of ids, a fifth of them with a
 * hostile body instead), so the fuzz reaches writes, conflicts and transactions; the rest
 * combine every part at random. Each request prints as a short summary, never as a
 * megabyte of body.
 */
import fc from 'fast-check';
import { METHODS } from 'node:http';
import type { NoResponseError, RawReply } from './raw-http';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What the body is, for reports. */
  bodyKind: string;
}

export interface FuzzContext {
  /** `Type/id` of resources that exist on the server, so some requests hit real state. */
  known: string[];
  /** ETags (`W/"vid"`) seen on the server. */
  etags: string[];
  /** The server's base URL, for absolute references in Bundles. */
  baseUrl: string;
}

const TYPES = ['Patient', 'Observation', 'Binary', 'Bundle', 'Encounter', 'OperationOutcome', 'Parameters', 'Practitioner'];
const BAD_TYPES = ['Foo', 'patient', 'PATIENT', 'Patients', 'X', 'Resource', 'DomainResource', 'Element', 'BackboneElement'];

const printable = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });

/** Percent-encodes every byte outside the unreserved set. */
const pctEncode = (bytes: Uint8Array): string =>
  [...bytes].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');

const junkSegment = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 24 }).map(pctEncode),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map((s) => pctEncode(Buffer.from(s, 'utf8'))),
  fc.constantFrom('%ZZ', '%', '%E0%A4%A', '%C0%AF', '%00', '%2F', '..', '.', '$validate', '$everything', '_history', '_search', '%24validate', '%20'),
  fc.stringMatching(/^[A-Za-z0-9\-._~!$&'()*+,;=:@]{1,20}$/),
);

const validId = fc.stringMatching(/^[A-Za-z0-9\-.]{1,64}$/);
const badId = fc.oneof(
  fc.constantFrom('a_b', 'a%20b', '%24x', '_x', 'a'.repeat(65), '%C3%A9', 'x%2Fy', '%00', '..%2F..'),
  junkSegment,
);
const vidArb = fc.oneof(fc.constantFrom('1', '2', '0', '-1', 'x', '1.abcdef', '999999999999'), junkSegment);

function pathArb(ctx: FuzzContext): fc.Arbitrary<string> {
  const type = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_TYPES) }, { weight: 1, arbitrary: junkSegment });
  const id = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ctx.known.map((k) => k.split('/')[1]!)) }, { weight: 2, arbitrary: validId }, { weight: 2, arbitrary: badId });
  const known = fc.constantFrom(...ctx.known);
  const base = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('', 'metadata', '_history', 'Patient/_search', 'Patient/_history', 'Patient/$validate', '$validate', 'metadata/x') },
    { weight: 3, arbitrary: type },
    { weight: 4, arbitrary: known },
    { weight: 3, arbitrary: fc.tuple(type, id).map(([t, i]) => `${t}/${i}`) },
    { weight: 2, arbitrary: fc.tuple(fc.oneof(known, fc.tuple(type, id).map(([t, i]) => `${t}/${i}`)), fc.constantFrom('_history', '$validate', '_search', 'x')).map(([p, s]) => `${p}/${s}`) },
    { weight: 2, arbitrary: fc.tuple(fc.oneof(known, fc.tuple(type, id).map(([t, i]) => `${t}/${i}`)), vidArb).map(([p, v]) => `${p}/_history/${v}`) },
    { weight: 2, arbitrary: fc.array(junkSegment, { minLength: 1, maxLength: 6 }).map((s) => s.join('/')) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => `Patient/${'a'.repeat(n)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 10, max: 400 }).map((n) => Array.from({ length: n }, () => 'Patient').join('/')) },
  );
  const prefix = fc.oneof({ weight: 12, arbitrary: fc.constant('/fhir/') }, { weight: 1, arbitrary: fc.constantFrom('/', '/FHIR/', '/fhirx/', '//fhir/', '/fhir//', '/fhir/./', '/fhir/../fhir/', '/api/') });
  return fc.tuple(prefix, base, queryArb).map(([p, b, q]) => `${p}${b}${q}`);
}

const queryArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '?_count=abc', '?_count=-1', '?_count=0', '?_count=99999999999999999999', '?_format=xml', '?_format=json', '?_format=application/fhir+xml',
      '?_summary=junk', '?_summary=count', '?_summary=true', '?_elements=name,,', '?_pretty=true', '?_cursor=%%%', '?_cursor=',
      '?_cursor=AAAA', '?_since=notadate', '?_since=2020', '?_at=9999-99-99', '?identifier=http://x|1', '?identifier=', '?identifier=|',
      '?name=foo', '?name:exact=', '?name:missing=true', '?_id=fz-p1', '?_id=a,b,,c', '?foo=bar', '?_sort=-_lastUpdated', '?%zz=1',
      '?=', '?&&&', '?_has:Observation:subject:code=1', '?subject:Patient.name=x', '?birthdate=ge2020', '?identifier=\\|\\',
    ),
  },
  { weight: 2, arbitrary: fc.array(fc.tuple(junkSegment, junkSegment), { maxLength: 4 }).map((kv) => `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`) },
);

const methodArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD') },
  { weight: 2, arbitrary: fc.constantFrom('OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'SEARCH', 'QUERY', 'LINK', 'UNLINK', 'MKCOL', 'M-SEARCH', 'LOCK', 'REPORT', 'COPY', 'MOVE') },
  { weight: 1, arbitrary: fc.constantFrom('FOO', 'get', 'Post', 'BREW', 'X-DELETE', 'PUTT') },
);

function headersArb(ctx: FuzzContext): fc.Arbitrary<Record<string, string>> {
  const etag = ctx.etags.length > 0 ? fc.constantFrom(...ctx.etags) : fc.constant('W/"1"');
  const contentType = fc.oneof(
    { weight: 16, arbitrary: fc.constantFrom('application/fhir+json', 'application/json', 'application/fhir+json; charset=utf-8', 'application/json-patch+json') },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'application/fhir+json; charset=latin1', 'application/fhir+json; charset=UTF-16', 'APPLICATION/FHIR+JSON', 'application/fhir+json;;;',
        'application/xml', 'application/fhir+xml', 'text/plain', 'text/html', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
        'application/octet-stream', '*/*', '', ';', 'application/json+fhir', 'application/fhir+json; charset="utf-8"; fhirVersion=4.0',
      ),
    },
    { weight: 1, arbitrary: printable(40) },
  );
  // Mostly absent or sensible, so that most requests get past negotiation to the handlers.
  const sometimes = <T>(absentWeight: number, arb: fc.Arbitrary<T>) =>
    fc.oneof({ weight: absentWeight, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
  return fc
    .record({
      'content-type': sometimes(1, contentType),
      accept: fc.oneof(
        { weight: 14, arbitrary: fc.constant(undefined) },
        { weight: 4, arbitrary: fc.constantFrom('application/fhir+json', 'application/json', '*/*', 'application/fhir+json;q=0.9, */*;q=0.1') },
        { weight: 1, arbitrary: fc.constantFrom('application/fhir+xml', 'application/xml', 'text/html', 'text/*', 'application/json;q=0', 'image/png', '') },
        { weight: 1, arbitrary: printable(30) },
      ),
      'if-match': sometimes(4, fc.oneof(etag, etag, fc.constantFrom('*', 'W/"1"', '"1"', 'W/', '"', 'W/""', 'W/"1", W/"2"'), printable(30))),
      'if-none-match': sometimes(9, fc.oneof(etag, fc.constantFrom('*', 'W/"1"'), printable(20))),
      'if-none-exist': sometimes(
        4,
        fc.oneof(
          fc.constantFrom('identifier=http://x|fuzz', 'identifier=http://x|', 'Patient?identifier=x', '_id=fz-p1', 'name=fz', 'foo=bar', '', '?', '_count=1', 'identifier='),
          printable(40),
        ),
      ),
      'if-modified-since': sometimes(9, fc.oneof(fc.constantFrom('Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', 'yesterday', ''), printable(20))),
      prefer: sometimes(
        3,
        fc.oneof(
          fc.constantFrom('return=minimal', 'return=representation', 'return=OperationOutcome', 'handling=strict', 'handling=lenient', 'respond-async', 'return=', 'return="minimal"'),
          printable(30),
        ),
      ),
    })
    .map((h) => {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
      return out;
    });
}

// ---- bodies -------------------------------------------------------------------------------

type Json = unknown;

const resourceArb = (ctx: FuzzContext): fc.Arbitrary<Record<string, Json>> => {
  const ids = fc.oneof(fc.constantFrom(...ctx.known.map((k) => k.split('/')[1]!)), validId, fc.constantFrom('bad id', '', 'a'.repeat(65)));
  const patient = fc.record(
    {
      resourceType: fc.constant('Patient'),
      id: ids,
      name: fc.array(fc.record({ family: fc.string({ maxLength: 20 }), given: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }) }, { requiredKeys: [] }), { maxLength: 2 }),
      identifier: fc.array(fc.record({ system: fc.constantFrom('http://x', 'urn:oid:1.2', ''), value: fc.string({ maxLength: 10 }) }), { maxLength: 2 }),
      gender: fc.constantFrom('male', 'female', 'other', 'unknown', 'banana'),
      birthDate: fc.constantFrom('2000-01-01', '2000-13-45', 'yesterday', '1999'),
      active: fc.oneof(fc.boolean(), fc.constant('yes')),
      meta: fc.constantFrom({ versionId: '1' }, { versionId: 5 }, 'meta', { lastUpdated: 'never' }, { tag: [{ code: 'x' }] }),
      extension: fc.constantFrom([{ url: 'http://x', valueString: 'v' }], [{ valueString: 'no url' }], [{ url: 'http://x', valueQuantity: 'bad' }], 'ext'),
      unknownElement: fc.anything({ maxDepth: 2 }),
    },
    { requiredKeys: ['resourceType'] },
  );
  const observation = fc.record(
    {
      resourceType: fc.constant('Observation'),
      id: ids,
      status: fc.constantFrom('final', 'preliminary', 'nonsense'),
      code: fc.constantFrom({ text: 'x' }, { coding: [{ system: 'http://loinc.org', code: '1-8' }] }, 'code', {}),
      subject: fc.constantFrom({ reference: 'Patient/fz-p1' }, { reference: 'urn:uuid:00000000-0000-0000-0000-000000000000' }, { reference: '' }, { reference: 42 }),
      valueString: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: ['resourceType'] },
  );
  const other = fc.record({
    resourceType: fc.oneof(fc.constantFrom(...TYPES, ...BAD_TYPES, 'Patient ', ' Patient', ''), fc.string({ maxLength: 10 })),
    id: fc.oneof(ids, fc.integer(), fc.constant(null)),
  });
  const binary = fc.record({
    resourceType: fc.constant('Binary'),
    contentType: fc.constantFrom('text/plain', 'application/json-patch+json', ''),
    data: fc.oneof(fc.base64String({ maxLength: 40 }), fc.constantFrom('!!notbase64!!', '')),
  });
  return fc.oneof({ weight: 4, arbitrary: patient }, { weight: 2, arbitrary: observation }, { weight: 2, arbitrary: other }, { weight: 1, arbitrary: binary });
};

function bundleArb(ctx: FuzzContext): fc.Arbitrary<Record<string, Json>> {
  const resource = resourceArb(ctx);
  const entryUrl = fc.oneof(
    fc.constantFrom('Patient', 'Observation', 'Patient/fz-p1', 'Patient/new-1', 'Patient?identifier=http://x|1', 'Patient?foo=bar', 'metadata', '', '/', '%ZZ', 'Patient/%ZZ', 'Patient/a%20b', 'Foo/1', 'http://elsewhere/fhir/Patient/1', `${ctx.baseUrl}/Patient/fz-p1`, 'Patient/fz-p1/_history/1', '_history', 'Patient/$validate'),
    junkSegment,
  );
  const entry = fc.oneof(
    { weight: 6, arbitrary: fc.record(
      {
        fullUrl: fc.oneof(fc.constant('urn:uuid:11111111-1111-1111-1111-111111111111'), fc.constant(`${ctx.baseUrl}/Patient/fz-p1`), fc.string({ maxLength: 10 })),
        resource,
        request: fc.record(
          {
            method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'), fc.constantFrom('get', 'FOO', ''), fc.integer()),
            url: fc.oneof(entryUrl, fc.integer(), fc.constant(null)),
            ifMatch: fc.constantFrom('W/"1"', 'junk', '*'),
            ifNoneExist: fc.constantFrom('identifier=http://x|1', 'foo=bar', ''),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ) },
    { weight: 2, arbitrary: fc.constantFrom<Json>(null, 1, 'entry', [], true, {}, { request: null }, { request: 'GET' }, { resource: null, request: { method: 'POST', url: 'Patient' } }) },
    { weight: 1, arbitrary: fc.constant({ resource: { resourceType: 'Bundle', type: 'transaction', entry: [] }, request: { method: 'POST', url: 'Bundle' } }) },
    { weight: 1, arbitrary: fc.constant({ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from('[{"op":"remove","path":"/x"}]').toString('base64') }, request: { method: 'PATCH', url: 'Patient/fz-p1' } }) },
  );
  return fc.record(
    {
      resourceType: fc.constantFrom('Bundle', 'Bundle', 'Bundle', 'Patient'),
      type: fc.constantFrom('transaction', 'batch', 'transaction', 'batch', 'collection', 'searchset', 'junk', ''),
      entry: fc.oneof({ weight: 8, arbitrary: fc.array(entry, { maxLength: 6 }) }, { weight: 1, arbitrary: fc.constantFrom<Json>(null, 'entries', {}, 3) }),
    },
    { requiredKeys: ['resourceType'] },
  );
}

const patchArb: fc.Arbitrary<Json> = fc.oneof(
  fc.array(
    fc.record(
      {
        op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'junk'),
        path: fc.constantFrom('/name', '/name/0', '/id', '/resourceType', '/meta/versionId', '/-', '', '/x/y/z', '/name/99', 'name'),
        value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant('Observation')),
        from: fc.constantFrom('/name', '/nowhere'),
      },
      { requiredKeys: ['op'] },
    ),
    { maxLength: 3 },
  ),
  fc.constant({ resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: 'Patient.name' }] }] }),
  fc.constant({ resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Patient..(' }] }] }),
  fc.constant({ resourceType: 'Parameters', parameter: [{ name: 'operation' }] }),
);

/** Nests `inner` `depth` times in arrays or objects. */
const nested = (depth: number, kind: 'array' | 'object', inner = '1'): string =>
  kind === 'array' ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;

interface Body {
  kind: string;
  bytes: Buffer | undefined;
}

const text = (kind: string, s: string): Body => ({ kind, bytes: Buffer.from(s, 'utf8') });
const json = (kind: string, v: Json): Body => text(kind, JSON.stringify(v));

/** Bodies no handler should choke on: malformed, huge, deeply nested, odd JSON, raw bytes. */
function hostileBodyArb(ctx: FuzzContext): fc.Arbitrary<Body> {
  const resource = resourceArb(ctx);
  return fc.oneof(
    { weight: 2, arbitrary: resource.map((r) => text('bom+resource', `\ufeff${JSON.stringify(r)}`)) },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.constantFrom('{', '}', '[', '{"resourceType":', '{"resourceType":"Patient",}', "{'resourceType':'Patient'}", 'nul', 'NaN', 'undefined', ' ', '\ufeff', '\ufeff\ufeff{}', '{"a":1}{"b":2}', '"\\ud800"', '{"resourceType":"Patient","id":"\\u0000"}'),
        resource.chain((r) => {
          const s = JSON.stringify(r);
          return fc.integer({ min: 0, max: Math.max(0, s.length - 1) }).map((n) => s.slice(0, n));
        }),
      ).map((s) => text('malformed json', s)),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => json('json value', v)) },
    { weight: 1, arbitrary: fc.constantFrom<Json>(null, 0, -1, 1e308, 'Patient', [], [{ resourceType: 'Patient' }], true, {}).map((v) => json('scalar or array', v)) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 1_000, max: 2_000_000 }), fc.constantFrom('family', 'text', 'div')).map(([n, where]) =>
        text(`huge string (${n} chars in ${where})`, JSON.stringify(
          where === 'family'
            ? { resourceType: 'Patient', name: [{ family: 'x'.repeat(n) }] }
            : where === 'text'
              ? { resourceType: 'Observation', status: 'final', code: { text: 'é'.repeat(n) } }
              : { resourceType: 'Patient', text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'<b>'.repeat(n / 10)}</div>` } },
        )),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 50, max: 60_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'), fc.constantFrom('raw', 'in resource', 'in bundle entry')).map(
        ([depth, kind, where]) => {
          const deep = nested(depth, kind);
          const s =
            where === 'raw'
              ? deep
              : where === 'in resource'
                ? `{"resourceType":"Patient","extension":[{"url":"http://x","valueString":"v","extension":${deep}}]}`
                : `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","contact":${deep}}}]}`;
          return text(`deep nesting (${depth} ${kind}s, ${where})`, s);
        },
      ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ kind: 'random bytes', bytes: Buffer.from(b) })) },
    { weight: 1, arbitrary: fc.constantFrom('_id=fz-p1', 'name=x&name=y', '%zz=%zz', '=&=', 'identifier=http://x|1').map((s) => text('form', s)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"resourceType":"Patient","__proto__":{"resourceType":"Observation"}}',
        '{"resourceType":"Patient","constructor":{"prototype":{"polluted":true}}}',
        '{"resourceType":"Patient","resourceType":"Observation"}',
        '{"resourceType":"Patient","id":"fz-p1","id":"other"}',
        '{"resourceType":"Patient","hasOwnProperty":1,"toString":2}',
      ).map((s) => text('prototype keys', s)),
    },
  );
}

function bodyArb(ctx: FuzzContext): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant<Body>({ kind: 'none', bytes: undefined }) },
    { weight: 8, arbitrary: resourceArb(ctx).map((r) => json('resource', r)) },
    { weight: 5, arbitrary: bundleArb(ctx).map((b) => json('bundle', b)) },
    { weight: 3, arbitrary: patchArb.map((p) => json('patch', p)) },
    { weight: 13, arbitrary: hostileBodyArb(ctx) },
  );
}

// ---- coherent interactions ----------------------------------------------------------------
// Fully random parts rarely get past routing and validation. These requests are real FHIR
// interactions (matching method, path, Content-Type and mostly valid bodies), so they
// write, conflict and reach the deep code; a share of them carry a hostile body instead.

/** A small pool of ids, so creates, updates and deletes keep meeting each other. */
const poolId = fc.constantFrom('fz-n0', 'fz-n1', 'fz-n2', 'fz-n3', 'fz-n4');
const identifierValue = fc.constantFrom('a', 'b', 'c', 'd');
const URNS = ['urn:uuid:0a0a0a0a-0000-4000-8000-000000000001', 'urn:uuid:0a0a0a0a-0000-4000-8000-000000000002', 'urn:uuid:0a0a0a0a-0000-4000-8000-000000000003'];
const safeText = fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z '-]{0,15}$/), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }));

function validPatient(id?: string): fc.Arbitrary<Record<string, Json>> {
  return fc
    .record(
      {
        name: fc.array(fc.record({ family: safeText, given: fc.array(safeText, { minLength: 1, maxLength: 2 }) }, { requiredKeys: [] }), { minLength: 1, maxLength: 2 }),
        identifier: fc.array(fc.record({ system: fc.constant('http://x'), value: identifierValue }), { minLength: 1, maxLength: 1 }),
        gender: fc.constantFrom('male', 'female', 'other', 'unknown'),
        birthDate: fc.constantFrom('2000-01-01', '1970', '1999-12', '2024-02-29'),
        active: fc.boolean(),
      },
      { requiredKeys: [] },
    )
    .map((r) => ({ resourceType: 'Patient', ...(id !== undefined ? { id } : {}), ...r }));
}

function validObservation(id?: string): fc.Arbitrary<Record<string, Json>> {
  return fc
    .record({
      status: fc.constantFrom('final', 'preliminary', 'amended'),
      code: fc.constantFrom({ text: 'weight' }, { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }),
      subject: fc.constantFrom({ reference: 'Patient/fz-p1' }, { reference: 'Patient/fz-n1' }, ...URNS.map((reference) => ({ reference })), { reference: 'Patient?identifier=http://x|a' }),
      valueQuantity: fc.record({ value: fc.double({ min: 0, max: 500, noNaN: true }), unit: fc.constant('kg') }),
    })
    .map((r) => ({ resourceType: 'Observation', ...(id !== undefined ? { id } : {}), ...r }));
}

const validOf = (type: string, id?: string) => (type === 'Observation' ? validObservation(id) : validPatient(id));

function coherentBundle(ctx: FuzzContext): fc.Arbitrary<Record<string, Json>> {
  const entry = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...URNS), validPatient()).map(([fullUrl, resource]) => ({ fullUrl, resource, request: { method: 'POST', url: 'Patient' } })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...URNS), validPatient(), identifierValue).map(([fullUrl, resource, v]) => ({ fullUrl, resource, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=http://x|${v}` } })) },
    { weight: 3, arbitrary: validObservation().map((resource) => ({ resource, request: { method: 'POST', url: 'Observation' } })) },
    { weight: 4, arbitrary: poolId.chain((id) => validPatient(id).map((resource) => ({ resource, request: { method: 'PUT', url: `Patient/${id}` } }))) },
    { weight: 1, arbitrary: fc.tuple(poolId, fc.constantFrom(...ctx.etags, 'W/"1"')).chain(([id, ifMatch]) => validPatient(id).map((resource) => ({ resource, request: { method: 'PUT', url: `Patient/${id}`, ifMatch } }))) },
    { weight: 2, arbitrary: identifierValue.chain((v) => validPatient().map((resource) => ({ resource, request: { method: 'PUT', url: `Patient?identifier=http://x|${v}` } }))) },
    { weight: 2, arbitrary: poolId.map((id) => ({ request: { method: 'DELETE', url: `Patient/${id}` } })) },
    { weight: 1, arbitrary: identifierValue.map((v) => ({ request: { method: 'DELETE', url: `Patient?identifier=http://x|${v}` } })) },
    { weight: 1, arbitrary: fc.constantFrom('Patient/fz-p1', 'Patient?identifier=http://x|a', 'metadata', 'Patient/fz-n0/_history').map((url) => ({ request: { method: 'GET', url } })) },
    { weight: 1, arbitrary: poolId.map((id) => ({ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify([{ op: 'replace', path: '/active', value: true }])).toString('base64') }, request: { method: 'PATCH', url: `Patient/${id}` } })) },
    { weight: 2, arbitrary: bundleArb(ctx).map((b) => (Array.isArray(b.entry) && b.entry.length > 0 ? b.entry[0] : null)) },
  );
  return fc.record({
    resourceType: fc.constant('Bundle'),
    type: fc.constantFrom('transaction', 'transaction', 'batch'),
    entry: fc.array(entry, { minLength: 1, maxLength: 6 }),
  });
}

function coherentArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const type = fc.constantFrom('Patient', 'Patient', 'Observation');
  const json = (kind: string, v: unknown): Body => ({ kind, bytes: Buffer.from(JSON.stringify(v)) });
  type Plan = { method: string; path: string; headers?: Record<string, string>; body?: fc.Arbitrary<Body> };
  const plan: fc.Arbitrary<Plan> = fc.oneof(
    { weight: 3, arbitrary: type.map((t) => ({ method: 'POST', path: t, body: validOf(t).map((r) => json('valid resource', r)) })) },
    { weight: 2, arbitrary: identifierValue.map((v) => ({ method: 'POST', path: 'Patient', headers: { 'if-none-exist': `identifier=http://x|${v}` }, body: validPatient().map((r) => json('valid resource', r)) })) },
    { weight: 4, arbitrary: fc.tuple(type, poolId).map(([t, id]) => ({ method: 'PUT', path: `${t}/${id}`, body: validOf(t, id).map((r) => json('valid resource', r)) })) },
    { weight: 1, arbitrary: fc.tuple(poolId, fc.constantFrom(...ctx.etags, 'W/"1"', '*')).map(([id, m]) => ({ method: 'PUT', path: `Patient/${id}`, headers: { 'if-match': m }, body: validPatient(id).map((r) => json('valid resource', r)) })) },
    { weight: 2, arbitrary: identifierValue.map((v) => ({ method: 'PUT', path: `Patient?identifier=http://x|${v}`, body: validPatient().map((r) => json('valid resource', r)) })) },
    { weight: 2, arbitrary: poolId.map((id) => ({ method: 'PATCH', path: `Patient/${id}`, headers: { 'content-type': 'application/json-patch+json' }, body: patchArb.map((p) => json('patch', p)) })) },
    { weight: 2, arbitrary: fc.tuple(type, poolId).map(([t, id]) => ({ method: 'DELETE', path: `${t}/${id}` })) },
    { weight: 1, arbitrary: identifierValue.map((v) => ({ method: 'DELETE', path: `Patient?identifier=http://x|${v}` })) },
    { weight: 3, arbitrary: fc.tuple(type, poolId, fc.constantFrom('', '/_history', '/_history/1')).map(([t, id, s]) => ({ method: 'GET', path: `${t}/${id}${s}` })) },
    { weight: 2, arbitrary: fc.tuple(type, queryArb).map(([t, q]) => ({ method: 'GET', path: `${t}${q}` })) },
    { weight: 1, arbitrary: fc.constantFrom('_history', 'Patient/_history', '_history?_count=2', 'metadata').map((p) => ({ method: 'GET', path: p })) },
    { weight: 4, arbitrary: fc.constant({ method: 'POST', path: '', body: coherentBundle(ctx).map((b) => json('bundle', b)) }) },
    { weight: 1, arbitrary: type.map((t) => ({ method: 'POST', path: `${t}/$validate`, body: validOf(t).map((r) => json('valid resource', r)) })) },
  );
  return fc
    .tuple(plan, fc.nat(9), hostileBodyArb(ctx), fc.nat(9), headersArb(ctx))
    .chain(([p, hostileRoll, hostile, headerRoll, oddHeaders]) => {
      const body: fc.Arbitrary<Body | undefined> =
        p.body === undefined ? fc.constant(undefined) : hostileRoll < 2 ? fc.constant(hostile) : p.body;
      return body.map((b) => {
        const headers: Record<string, string> = headerRoll === 0 ? { ...oddHeaders } : {};
        if (b?.bytes !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/fhir+json';
        Object.assign(headers, p.headers);
        const req: FuzzRequest = { method: p.method, path: `/fhir/${p.path}`, headers, bodyKind: b?.kind ?? 'none' };
        if (b?.bytes !== undefined) req.body = b.bytes;
        return withSummary(req);
      });
    });
}

export function fuzzRequestArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc.oneof({ weight: 3, arbitrary: coherentArb(ctx) }, { weight: 2, arbitrary: chaoticArb(ctx) });
}

/** Every part random and independent: methods, paths, headers and bodies of all kinds. */
function chaoticArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(methodArb, pathArb(ctx), headersArb(ctx), bodyArb(ctx), fc.nat(9).map((n) => n === 0))
    .map(([method, path, headers, body, dropContentType]) => {
      const h = { ...headers };
      // A body usually comes with a sensible Content-Type; sometimes it has none at all.
      if (body.bytes !== undefined && h['content-type'] === undefined && !dropContentType) h['content-type'] = 'application/fhir+json';
      const req: FuzzRequest = { method, path, headers: h, bodyKind: body.kind };
      if (body.bytes !== undefined) req.body = body.bytes;
      return withSummary(req);
    });
}

/** Prints a request as a readable one-liner (bodies abbreviated). */
export function describeRequest(r: FuzzRequest): string {
  const path = r.path.length > 200 ? `${r.path.slice(0, 200)}...(${r.path.length} chars)` : r.path;
  const body = r.body === undefined ? '' : ` body[${r.bodyKind}, ${r.body.length} B]: ${JSON.stringify(r.body.subarray(0, 300).toString('utf8'))}${r.body.length > 300 ? '...' : ''}`;
  return `${r.method} ${path} ${JSON.stringify(r.headers)}${body}`;
}

function withSummary(r: FuzzRequest): FuzzRequest {
  Object.defineProperty(r, fc.toStringMethod, { value: () => describeRequest(r), enumerable: false });
  return r;
}

// ---- checks ------------------------------------------------------------------------------

const NODE_METHODS = new Set(METHODS);
/** Node's default limit on the request line plus headers (--max-http-header-size). */
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * Why a request may legitimately get no HTTP response, or undefined if it must get one.
 * These are refusals by Node's HTTP layer before the server code runs, or an upload cut
 * off after the server already answered; none is a server fault, and the callers still
 * check that nothing changed and the server is up.
 */
export function droppedByTransport(req: FuzzRequest, error: NoResponseError): string | undefined {
  if (!NODE_METHODS.has(req.method)) return `method ${req.method} is not an HTTP method Node parses (400, connection closed)`;
  const head = req.method.length + req.path.length + Object.entries(req.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  if (head > MAX_HEAD_BYTES - 512) return `request head of ~${head} bytes exceeds Node's header limit (431, connection closed)`;
  if ((error.code === 'EPIPE' || error.code === 'ECONNRESET') && (req.body?.length ?? 0) >= 1_000_000) {
    return `a ${req.body!.length}-byte upload cut off (${error.code}) after an early answer`;
  }
  return undefined;
}

/** What is wrong with a reply under the fuzz properties; empty when it is fine. */
export function replyProblems(req: FuzzRequest, reply: RawReply): string[] {
  const problems: string[] = [];
  if (reply.status >= 500) problems.push(`status ${reply.status}`);
  const hasBody = reply.body.length > 0 && req.method !== 'HEAD';
  let parsed: unknown;
  if (hasBody && /json/.test(String(reply.headers['content-type']))) {
    try {
      parsed = JSON.parse(reply.text);
    } catch {
      problems.push('body is not JSON although its Content-Type says so');
    }
  }
  if (reply.status >= 300 && reply.status !== 304 && hasBody) {
    const oo = parsed as { resourceType?: unknown; issue?: unknown } | undefined;
    if (!oo || oo.resourceType !== 'OperationOutcome' || !Array.isArray(oo.issue) || oo.issue.length === 0) {
      problems.push(`error ${reply.status} body is not an OperationOutcome: ${reply.text.slice(0, 200)}`);
    }
    if (!/^application\/fhir\+json/.test(String(reply.headers['content-type']))) {
      problems.push(`error ${reply.status} has Content-Type ${reply.headers['content-type']}`);
    }
  }
  // Batch and transaction responses: no entry may report a server fault either.
  const bundle = parsed as { resourceType?: string; type?: string; entry?: Array<{ response?: { status?: string } }> } | undefined;
  if (bundle?.resourceType === 'Bundle' && (bundle.type === 'batch-response' || bundle.type === 'transaction-response')) {
    for (const [i, e] of (bundle.entry ?? []).entries()) {
      if (/^5/.test(e.response?.status ?? '')) problems.push(`${bundle.type} entry ${i} has status ${e.response?.status}`);
    }
  }
  return problems;
}
