/**
 * Attachment size and hash against the inline data, wherever the Attachment sits: resource
 * elements, backbone elements, choices, extensions (also on primitives), contained
 * resources and Bundle entries. Only Attachments with data are judged.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, corpusAvailable } from '../../../../test/support/corpus';
import { DefinitionCatalog } from '../definition-catalog';
import { AttachmentChecker, attachmentIssues, base64Length } from './attachments';

const checker = new AttachmentChecker(new DefinitionCatalog());
const at = (r: unknown) => checker.check(r).map((i) => i.expression?.[0]);

// "hello": base64 aGVsbG8=, SHA-1 aaf4c61d... (hex) = qvTGHdzF6KLavt4PO0gs2a6pQ00= (base64).
const HELLO = { contentType: 'text/plain', data: 'aGVsbG8=' };
const HELLO_SHA1 = 'qvTGHdzF6KLavt4PO0gs2a6pQ00=';
const HELLO_SHA1_HEX = 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d';
const docRef = (attachment: object) => ({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment }] });

describe('base64Length', () => {
  it('counts decoded bytes, allows whitespace, refuses malformed base64', () => {
    expect(base64Length('aGVsbG8=')).toBe(5);
    expect(base64Length('aGVs\n bG8=')).toBe(5);
    expect(base64Length('aGVsbA==')).toBe(4);
    expect(base64Length('')).toBe(0);
    expect(base64Length('aGVsbG8')).toBe(-1); // not a whole group
    expect(base64Length('aG=sbG8=')).toBe(-1); // padding inside
    expect(base64Length('aGVs*G8=')).toBe(-1);
    expect(base64Length('a===')).toBe(-1);
  });
});

describe('Attachment size and hash', () => {
  it('accepts the right size and the base64 SHA-1 of the decoded bytes', () => {
    expect(at(docRef({ ...HELLO, size: 5, hash: HELLO_SHA1 }))).toEqual([]);
    const bytes = Buffer.from('line one\nline two\n');
    const wrapped = bytes.toString('base64').replace(/(.{8})/g, '$1\n');
    expect(at(docRef({ contentType: 'text/plain', data: wrapped, size: bytes.length, hash: createHash('sha1').update(bytes).digest('base64') }))).toEqual([]);
  });

  it('refuses a wrong size and a wrong base64 hash; a hexadecimal hash (right or wrong) warns', () => {
    expect(at(docRef({ ...HELLO, size: 8 }))).toEqual(['DocumentReference.content[0].attachment.size']);
    expect(at(docRef({ ...HELLO, hash: createHash('sha1').update('other').digest('base64') }))).toEqual(['DocumentReference.content[0].attachment.hash']);
    const wrongHex = checker.check(docRef({ ...HELLO, hash: createHash('sha1').update('other').digest('hex') }));
    expect(wrongHex.map((i) => [i.severity, i.expression?.[0]])).toEqual([['warning', 'DocumentReference.content[0].attachment.hash']]);
    const hex = checker.check(docRef({ ...HELLO, hash: HELLO_SHA1_HEX }));
    expect(hex.map((i) => [i.severity, i.expression?.[0]])).toEqual([['warning', 'DocumentReference.content[0].attachment.hash']]);
    expect(hex[0]!.diagnostics).toMatch(/base64/);
    expect(hex[0]!.diagnostics).not.toContain(HELLO_SHA1_HEX);
  });

  it('refuses data that is not base64, and judges nothing without data', () => {
    expect(at(docRef({ contentType: 'text/plain', data: 'not base64!', size: 3 }))).toEqual(['DocumentReference.content[0].attachment.data']);
    expect(at(docRef({ url: 'http://x.org/doc.pdf', size: 999, hash: HELLO_SHA1_HEX }))).toEqual([]);
  });

  it('finds Attachments in data types, choices, extensions, contained resources and Bundle entries', () => {
    const bad = { ...HELLO, size: 1 };
    expect(at({ resourceType: 'Patient', photo: [HELLO, bad] })).toEqual(['Patient.photo[1].size']);
    // (R4 Observation.value[x] has no Attachment; R5 added it.)
    expect(at({ resourceType: 'DiagnosticReport', status: 'final', code: { text: 'x' }, presentedForm: [bad] })).toEqual(['DiagnosticReport.presentedForm[0].size']);
    expect(at({ resourceType: 'QuestionnaireResponse', status: 'completed', item: [{ linkId: 'a', answer: [{ valueAttachment: bad }] }] })).toEqual([
      'QuestionnaireResponse.item[0].answer[0].valueAttachment.size',
    ]);
    expect(at({ resourceType: 'Communication', status: 'completed', payload: [{ contentAttachment: bad }] })).toEqual(['Communication.payload[0].contentAttachment.size']);
    expect(at({ resourceType: 'Media', status: 'completed', content: bad })).toEqual(['Media.content.size']);
    const ext = { url: 'http://x.org/ext', valueAttachment: bad };
    expect(at({ resourceType: 'Patient', extension: [ext] })).toEqual(['Patient.extension[0].valueAttachment.size']);
    expect(at({ resourceType: 'Patient', name: [{ family: 'A', extension: [{ url: 'http://x.org/outer', extension: [ext] }] }] })).toEqual([
      'Patient.name[0].extension[0].extension[0].valueAttachment.size',
    ]);
    expect(at({ resourceType: 'Patient', _birthDate: { extension: [ext] }, birthDate: '2000-01-01' })).toEqual(['Patient._birthDate.extension[0].valueAttachment.size']);
    expect(at({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, contained: [{ resourceType: 'Patient', id: 'p', photo: [bad] }] })).toEqual([
      'Observation.contained[0].photo[0].size',
    ]);
    expect(at({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:c757873d-ec9a-4326-a141-556f43239520', resource: docRef(bad) }] })).toEqual([
      'Bundle.entry[0].resource.content[0].attachment.size',
    ]);
    // A recursive backbone element (Questionnaire.item.item) with an Attachment initial value.
    const item = (extra: object) => ({ linkId: 'a', type: 'attachment', ...extra });
    expect(at({ resourceType: 'Questionnaire', status: 'active', item: [item({ item: [item({ initial: [{ valueAttachment: bad }] })] })] })).toEqual([
      'Questionnaire.item[0].item[0].initial[0].valueAttachment.size',
    ]);
  });

  it('is what attachmentIssues reports with the shared catalog; other content is untouched', () => {
    expect(attachmentIssues(docRef({ ...HELLO, size: 6 })).map((i) => i.severity)).toEqual(['error']);
    expect(attachmentIssues({ resourceType: 'Binary', contentType: 'text/plain', data: 'not base64!' })).toEqual([]);
    expect(attachmentIssues({ resourceType: 'NoSuchType', photo: [{ data: '!', size: 1 }] })).toEqual([]);
  });
});

describe.runIf(corpusAvailable())('official R4 examples', () => {
  it('pass; DiagnosticReport-example-pgx, whose presentedForm hash is hexadecimal (of other bytes), gets a warning', () => {
    const rows = readFileSync(join(CORPUS, 'r4-examples', 'index.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string });
    const issues = rows.map((r) => [r.file, checker.check(JSON.parse(readFileSync(join(CORPUS, 'r4-examples', r.file), 'utf8')))] as const);
    expect(issues.filter(([, list]) => list.some((i) => i.severity === 'error')).map(([f]) => f)).toEqual([]);
    expect(issues.filter(([, list]) => list.length > 0).map(([f, list]) => [f, list.map((i) => i.severity)])).toEqual([['DiagnosticReport-example-pgx.json', ['warning']]]);
  });
});
