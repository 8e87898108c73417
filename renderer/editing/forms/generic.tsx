/**
 * The generic editor, for every type without a form of its own: built from the type's
 * StructureDefinition at run time. One level of elements, each with inputs by its type
 * (string, number, boolean, code with its binding, date/dateTime, Reference,
 * CodeableConcept as text and code, Quantity, Period, Identifier...), repeating elements
 * with add/remove, a type choice for `[x]` elements. A value the inputs cannot hold
 * exactly (a backbone element, a concept with two codings) is edited as JSON in place,
 * so nothing is ever lost. Decimals keep their text (`1.10` stays `1.10`) both ways: shown
 * as stored, written as typed (shared/fhir/exact-json.ts).
 */
import type { ElementDefinition, ElementDefinitionType, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { useState } from 'react';
import { useFieldArray, useWatch, type Control, type FieldValues, type UseFormReturn } from 'react-hook-form';
import {
  decimalTextsUnder,
  exactNumberTexts,
  parseJson,
  replaceDecimalTextsUnder,
  stringifyJson,
  withDecimalTexts,
  type DecimalTexts,
} from '../../../shared/fhir/exact-json';
import { clone, conceptValue, pruneResource, toCoding, toConcept, words } from '../convert';
import { childElements, choiceName, elementName, humanize, isArray } from '../definitions';
import { BooleanSelect, CodeSelect, ConceptInput, FieldGroup, TextInput, type ConceptValue } from '../fields';
import { fieldId } from '../issues';
import type { FieldsProps, FormContext, FormSpec } from './spec';

/** Elements the generic form leaves to the JSON view (kept as they are). */
const LEFT_OUT = new Set(['id', 'meta', 'implicitRules', 'language', 'text', 'contained', 'extension', 'modifierExtension']);

export interface GenericItem {
  /** The FHIR type of this value (one of the element's types). */
  t: string;
  /** Edited as JSON text (the inputs cannot hold it exactly). */
  json: boolean;
  value: unknown;
}

type Parts = Record<string, string>;
interface PartDef {
  key: string;
  label: string;
  type?: 'text' | 'number';
}
interface PartsEditor {
  parts: PartDef[];
  /** The parts holding a number (their text is kept as typed). */
  numeric?: string[];
  /** The parts of a value, or undefined when the parts cannot hold it exactly. */
  from(v: unknown): Parts | undefined;
  to(p: Parts): unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKeys = (v: unknown, keys: string[]) => isObj(v) && Object.keys(v).every((k) => keys.includes(k) && (typeof v[k] === 'string' || typeof v[k] === 'number' || (k === 'given' && Array.isArray(v[k]))));
const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const numOrUndefined = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : Number(s));

function simpleParts(keys: PartDef[], numeric: string[] = []): PartsEditor {
  return {
    parts: keys,
    numeric,
    from: (v) => (onlyKeys(v, keys.map((k) => k.key)) ? Object.fromEntries(keys.map((k) => [k.key, str((v as Record<string, unknown>)[k.key])])) : undefined),
    to: (p) => Object.fromEntries(keys.map((k) => [k.key, numeric.includes(k.key) ? numOrUndefined(p[k.key]) : p[k.key]?.trim() || undefined])),
  };
}

const QUANTITY = simpleParts([{ key: 'value', label: 'Value', type: 'number' }, { key: 'unit', label: 'Unit' }, { key: 'code', label: 'Unit code (UCUM)' }, { key: 'system', label: 'Unit system' }], ['value']);

const PARTS: Record<string, PartsEditor> = {
  Reference: simpleParts([{ key: 'reference', label: 'Reference (Type/id)' }, { key: 'display', label: 'Display' }]),
  Quantity: QUANTITY,
  SimpleQuantity: QUANTITY,
  Age: QUANTITY,
  Duration: QUANTITY,
  Distance: QUANTITY,
  Count: QUANTITY,
  Money: simpleParts([{ key: 'value', label: 'Amount', type: 'number' }, { key: 'currency', label: 'Currency' }], ['value']),
  Period: simpleParts([{ key: 'start', label: 'Start' }, { key: 'end', label: 'End' }]),
  Identifier: simpleParts([{ key: 'system', label: 'System' }, { key: 'value', label: 'Value' }]),
  ContactPoint: simpleParts([{ key: 'system', label: 'Kind (phone, email…)' }, { key: 'value', label: 'Value' }, { key: 'use', label: 'Use (home, work…)' }]),
  Annotation: simpleParts([{ key: 'text', label: 'Text' }]),
  HumanName: {
    parts: [{ key: 'family', label: 'Family name' }, { key: 'given', label: 'Given names' }],
    from: (v) => (onlyKeys(v, ['family', 'given']) && ((v as { given?: unknown[] }).given ?? []).every((g) => typeof g === 'string') ? { family: str((v as Record<string, unknown>).family), given: (((v as { given?: string[] }).given) ?? []).join(' ') } : undefined),
    to: (p) => ({ family: p.family?.trim() || undefined, given: words(p.given ?? '') }),
  },
};

const TEXT_TYPES = new Set(['string', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid', 'time', 'dateTime', 'instant', 'markdown', 'base64Binary', 'xhtml']);
const NUMBER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt', 'decimal']);

type Kind = 'text' | 'number' | 'boolean' | 'date' | 'code' | 'concept' | 'coding' | 'parts' | 'json';

function kindOf(t: string): Kind {
  if (TEXT_TYPES.has(t)) return 'text';
  if (NUMBER_TYPES.has(t)) return 'number';
  if (t === 'boolean') return 'boolean';
  if (t === 'date') return 'date';
  if (t === 'code') return 'code';
  if (t === 'CodeableConcept') return 'concept';
  if (t === 'Coding') return 'coding';
  if (PARTS[t]) return 'parts';
  return 'json';
}

const conceptFits = (v: unknown) => isObj(v) && Object.keys(v).every((k) => k === 'text' || k === 'coding') && ((v.coding as unknown[] | undefined) ?? []).length <= 1 && ((v.coding as unknown[] | undefined) ?? []).every((c) => onlyKeys(c, ['system', 'code', 'display']));

/**
 * A stored value as a form item of type `t`; `texts` are the exact texts of its numbers
 * (relative to it, '' for the value itself: decimalTextsUnder).
 */
export function itemOf(t: string, v: unknown, texts?: DecimalTexts): GenericItem {
  const kind = kindOf(t);
  const json = (): GenericItem => ({
    t,
    json: true,
    value: texts && isObj(v) ? stringifyJson(withDecimalTexts({ ...v }, texts), 2) : JSON.stringify(v, null, 2),
  });
  switch (kind) {
    case 'text':
    case 'date':
    case 'code':
      return typeof v === 'string' ? { t, json: false, value: v } : json();
    case 'number':
      return typeof v === 'number' ? { t, json: false, value: texts?.[''] ?? String(v) } : json();
    case 'boolean':
      return typeof v === 'boolean' ? { t, json: false, value: String(v) } : json();
    case 'concept':
      return conceptFits(v) ? { t, json: false, value: conceptValue(v as object) } : json();
    case 'coding':
      return onlyKeys(v, ['system', 'code', 'display']) ? { t, json: false, value: conceptValue(v as object) } : json();
    case 'parts': {
      const p = PARTS[t]!.from(v);
      for (const key of PARTS[t]!.numeric ?? []) if (p && texts?.[key] !== undefined) p[key] = texts[key];
      return p ? { t, json: false, value: p } : json();
    }
    default:
      return json();
  }
}

export const emptyItem = (t: string): GenericItem => {
  const kind = kindOf(t);
  if (kind === 'concept' || kind === 'coding') return { t, json: false, value: { text: '', code: '', system: '', display: '' } };
  if (kind === 'parts') return { t, json: false, value: Object.fromEntries(PARTS[t]!.parts.map((p) => [p.key, ''])) };
  return { t, json: kind === 'json', value: kind === 'json' ? '{\n  \n}' : '' };
};

export class JsonItemError extends Error {
  constructor(readonly path: string) {
    super(`The JSON at ${path} is not valid.`);
  }
}

/** A form item back as a FHIR value (undefined when empty). Throws JsonItemError for bad JSON. */
export function valueOf(item: GenericItem, path: string): unknown {
  if (item.json) {
    const text = String(item.value ?? '').trim();
    if (!text || text === '{}') return undefined;
    try {
      return parseJson(text);
    } catch {
      throw new JsonItemError(path);
    }
  }
  const kind = kindOf(item.t);
  const s = typeof item.value === 'string' ? item.value : '';
  switch (kind) {
    case 'text':
    case 'date':
    case 'code':
      return s.trim() === '' ? undefined : s;
    case 'number':
      return numOrUndefined(s);
    case 'boolean':
      return s === '' ? undefined : s === 'true';
    case 'concept':
      return toConcept(item.value as ConceptValue);
    case 'coding':
      return toCoding(item.value as ConceptValue);
    case 'parts':
      return PARTS[item.t]!.to(item.value as Parts);
    default:
      return undefined;
  }
}

/** The key for an element in the form values (`value[x]` -> `value`). */
const keyOf = (e: ElementDefinition) => elementName(e).replace(/\[x\]$/, '');
const typesOf = (e: ElementDefinition): string[] => (e.type ?? []).map((t: ElementDefinitionType) => t.code ?? '').filter(Boolean);
const isChoice = (e: ElementDefinition) => elementName(e).endsWith('[x]');

/** The element's key in a resource that holds it (`valueQuantity`), or undefined. */
function storedKeys(r: Record<string, unknown>, e: ElementDefinition): Array<[string, string]> {
  const name = keyOf(e);
  if (!isChoice(e)) return name in r ? [[name, typesOf(e)[0] ?? 'string']] : [];
  return typesOf(e)
    .map((t) => [choiceName(name, t), t] as [string, string])
    .filter(([k]) => k in r);
}

export function editableElements(sd: StructureDefinition): ElementDefinition[] {
  return childElements(sd, sd.type ?? '').filter((e) => !LEFT_OUT.has(elementName(e)));
}

export interface GenericValues {
  el: Record<string, GenericItem[]>;
}

export function genericFromResource(sd: StructureDefinition, r: Resource): GenericValues {
  const any = r as unknown as Record<string, unknown>;
  const el: Record<string, GenericItem[]> = {};
  for (const e of editableElements(sd)) {
    const items: GenericItem[] = [];
    for (const [k, t] of storedKeys(any, e)) {
      const v = any[k];
      if (Array.isArray(v)) v.forEach((one, i) => items.push(itemOf(t, one, decimalTextsUnder(r, `${k}.${i}`))));
      else items.push(itemOf(t, v, decimalTextsUnder(r, k)));
    }
    el[keyOf(e)] = items;
  }
  return { el };
}

export function genericToResource(sd: StructureDefinition, values: GenericValues, base: Resource | undefined): Resource {
  let r = clone(base ?? ({ resourceType: sd.type } as Resource)) as unknown as Record<string, unknown>;
  for (const e of editableElements(sd)) {
    const items = values.el[keyOf(e)];
    if (!items) continue;
    for (const [k] of storedKeys(r, e)) {
      delete r[k];
      r = replaceDecimalTextsUnder(r, k, undefined);
    }
    const path = `${sd.type}.${keyOf(e)}`;
    const kept = items.map((item, i) => ({ item, v: valueOf(item, `${path}[${i}]`) })).filter(({ v }) => v !== undefined);
    if (kept.length === 0) continue;
    const key = isChoice(e) ? choiceName(keyOf(e), items[0]!.t) : keyOf(e);
    r[key] = isArray(e) ? kept.map(({ v }) => v) : kept[0]!.v;
    if (!isArray(e)) r = replaceDecimalTextsUnder(r, key, typedTexts(kept[0]!.item));
    else kept.forEach(({ item }, j) => (r = replaceDecimalTextsUnder(r, `${key}.${j}`, typedTexts(item))));
  }
  return pruneResource(r as unknown as Resource);
}

/** The texts of the numbers in an item as the user typed them, relative to the item (replaceDecimalTextsUnder keeps those that differ from JavaScript's form). */
function typedTexts(item: GenericItem): DecimalTexts | undefined {
  if (item.json) {
    try {
      return exactNumberTexts(String(item.value ?? ''));
    } catch {
      return undefined; // valueOf has refused it already
    }
  }
  const kind = kindOf(item.t);
  if (kind === 'number') return item.t === 'decimal' && typeof item.value === 'string' ? { '': item.value } : undefined; // integers have no precision to keep
  if (kind !== 'parts') return undefined;
  const parts = item.value as Parts;
  const out: DecimalTexts = {};
  for (const key of PARTS[item.t]!.numeric ?? []) if (parts[key] !== undefined) out[key] = parts[key];
  return out;
}

/** The FHIR path of item `i` of element `e` (for issues next to it). */
export function itemPath(sd: StructureDefinition, e: ElementDefinition, t: string, i: number): string {
  const name = isChoice(e) ? choiceName(keyOf(e), t) : keyOf(e);
  return `${sd.type}.${name}${isArray(e) ? `[${i}]` : ''}`;
}

// ---- The form ------------------------------------------------------------------------------------

function ItemInput({ e, control, form, name, path, label, t }: { e: ElementDefinition; control: Control<FieldValues>; form: UseFormReturn<FieldValues>; name: string; path: string; label: string; t: string }) {
  const json = useWatch({ control, name: `${name}.json` }) as boolean;
  const hint = e.short;
  if (json) return <TextInput control={control} name={`${name}.value`} path={path} label={`${label} (JSON)`} hint={hint} multiline className="json-item" />;
  const kind = kindOf(t);
  switch (kind) {
    case 'text':
      return <TextInput control={control} name={`${name}.value`} path={path} label={label} hint={hint ?? (t === 'dateTime' || t === 'instant' ? 'For example 2024-03-01T14:30:00+01:00' : undefined)} multiline={t === 'markdown' || t === 'base64Binary'} />;
    case 'number':
      return <TextInput control={control} name={`${name}.value`} path={path} label={label} hint={hint} type="number" inputMode="decimal" />;
    case 'date':
      return <TextInput control={control} name={`${name}.value`} path={path} label={label} hint={hint} type="date" />;
    case 'boolean':
      return <BooleanSelect control={control} name={`${name}.value`} path={path} label={label} hint={hint} />;
    case 'code':
      return <CodeSelect control={control} name={`${name}.value`} path={path} label={label} hint={hint} />;
    case 'concept':
    case 'coding':
      return <ConceptInput control={control} name={`${name}.value`} path={path} label={label} hint={hint} />;
    case 'parts':
      return (
        <FieldGroup path={path} label={label} hint={hint}>
          {(a) => (
            <div className="concept-row">
              {PARTS[t]!.parts.map((p) => (
                <div key={p.key}>
                  <label htmlFor={a(p.key).id}>{p.label}</label>
                  <input {...a(p.key)} type={p.type ?? 'text'} {...(p.type === 'number' ? { step: 'any' } : {})} {...form.register(`${name}.value.${p.key}`)} />
                </div>
              ))}
            </div>
          )}
        </FieldGroup>
      );
    default:
      return null;
  }
}

function ElementEditor({ sd, e, form, onHide }: { sd: StructureDefinition; e: ElementDefinition; form: UseFormReturn<FieldValues>; onHide: () => void }) {
  const { control } = form;
  const key = keyOf(e);
  const { fields, append, remove, update } = useFieldArray({ control, name: `el.${key}` });
  const items = (useWatch({ control, name: `el.${key}` }) as GenericItem[] | undefined) ?? [];
  const types = typesOf(e);
  const many = isArray(e);
  const label = humanize(elementName(e));
  const required = (e.min ?? 0) > 0;
  const headingId = `${fieldId(`${sd.type}.${key}`)}-heading`;
  return (
    <section className="generic-element" aria-labelledby={headingId}>
      <div className="generic-element-head">
        <h3 id={headingId}>
          {label}
          {required ? <span className="required-mark"> (required)</span> : null}
          <small className="element-path"> {e.path}</small>
        </h3>
        {!required && fields.length === 0 ? (
          <button type="button" className="link" onClick={onHide}>
            Hide
          </button>
        ) : null}
      </div>
      {fields.map((f, i) => {
        const item = items[i] ?? (f as unknown as GenericItem);
        const path = itemPath(sd, e, item.t, i);
        const itemLabel = many ? `${label} ${i + 1}` : label;
        return (
          <div key={f.id} className="generic-item">
            {types.length > 1 ? (
              <div className="field type-choice">
                <label htmlFor={`${fieldId(path)}-type`}>{`${itemLabel}: type`}</label>
                <select id={`${fieldId(path)}-type`} value={item.t} onChange={(ev) => update(i, emptyItem(ev.target.value))}>
                  {types.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              </div>
            ) : null}
            <ItemInput e={e} control={control} form={form} name={`el.${key}.${i}`} path={path} label={itemLabel} t={item.t} />
            <div className="item-actions">
              {kindOf(item.t) !== 'json' ? (
                <button type="button" className="link" onClick={() => update(i, item.json ? emptyItem(item.t) : { ...item, json: true, value: JSON.stringify(valueOfSafe(item, path) ?? {}, null, 2) })}>
                  {item.json ? `Use inputs for ${itemLabel}` : `Edit ${itemLabel} as JSON`}
                </button>
              ) : null}
              <button type="button" className="link danger-link" onClick={() => remove(i)}>
                Remove {itemLabel}
              </button>
            </div>
          </div>
        );
      })}
      {many || fields.length === 0 ? (
        <button type="button" onClick={() => append(emptyItem(types[0] ?? 'string'))}>
          Add {many && fields.length > 0 ? 'another ' : ''}
          {label.toLowerCase()}
        </button>
      ) : null}
    </section>
  );
}

function valueOfSafe(item: GenericItem, path: string): unknown {
  try {
    return valueOf(item, path);
  } catch {
    return undefined;
  }
}

function GenericFields({ sd, form }: FieldsProps & { sd: StructureDefinition }) {
  const elements = editableElements(sd);
  const [shown, setShown] = useState<string[]>(() => {
    const values = form.getValues() as GenericValues;
    return elements.filter((e) => (e.min ?? 0) > 0 || (values.el[keyOf(e)] ?? []).length > 0).map(keyOf);
  });
  const hidden = elements.filter((e) => !shown.includes(keyOf(e)));
  const [adding, setAdding] = useState('');
  return (
    <>
      {elements
        .filter((e) => shown.includes(keyOf(e)))
        .map((e) => (
          <ElementEditor key={keyOf(e)} sd={sd} e={e} form={form} onHide={() => setShown((s) => s.filter((k) => k !== keyOf(e)))} />
        ))}
      {hidden.length > 0 ? (
        <div className="add-element">
          <label htmlFor="generic-add-element">Add an element</label>
          <div className="inline-controls">
            <select id="generic-add-element" value={adding} onChange={(ev) => setAdding(ev.target.value)}>
              <option value="">Choose an element…</option>
              {hidden.map((e) => (
                <option key={keyOf(e)} value={keyOf(e)}>
                  {humanize(elementName(e))} — {e.short ?? ''}
                </option>
              ))}
            </select>
            <button
              type="button"
              disabled={!adding}
              onClick={() => {
                const e = elements.find((x) => keyOf(x) === adding);
                if (!e) return;
                setShown((s) => [...s, adding]);
                if (((form.getValues(`el.${adding}`) as GenericItem[] | undefined) ?? []).length === 0) form.setValue(`el.${adding}`, [emptyItem(typesOf(e)[0] ?? 'string')]);
                setAdding('');
              }}
            >
              Add
            </button>
          </div>
        </div>
      ) : null}
    </>
  );
}

const made = new WeakMap<StructureDefinition, FormSpec>();

/** The generic form of a type (one per definition, so its component keeps its identity). */
export function genericForm(sd: StructureDefinition): FormSpec {
  let spec = made.get(sd);
  if (!spec) made.set(sd, (spec = makeGenericForm(sd)));
  return spec;
}

function makeGenericForm(sd: StructureDefinition): FormSpec {
  const subjectLike = editableElements(sd).find((e) => ['subject', 'patient'].includes(elementName(e)) && typesOf(e).includes('Reference'));
  return {
    id: `generic-${sd.type}`,
    defaults: (ctx: FormContext) => {
      const base: Record<string, unknown> = { resourceType: sd.type };
      if (ctx.patient && subjectLike) {
        const ref = { reference: `Patient/${ctx.patient}` };
        base[keyOf(subjectLike)] = isArray(subjectLike) ? [ref] : ref;
      }
      const values = genericFromResource(sd, base as unknown as Resource);
      // Required elements start with one empty value to fill in.
      for (const e of editableElements(sd)) {
        if ((e.min ?? 0) > 0 && (values.el[keyOf(e)] ?? []).length === 0) values.el[keyOf(e)] = [emptyItem(typesOf(e)[0] ?? 'string')];
      }
      return values as unknown as FieldValues;
    },
    fromResource: (r) => genericFromResource(sd, r) as unknown as FieldValues,
    toResource: (v, base) => genericToResource(sd, v as unknown as GenericValues, base),
    Fields: function GenericForm(props: FieldsProps) {
      return <GenericFields {...props} sd={sd} />;
    },
  };
}
