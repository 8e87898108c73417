/**
 * A resource in words, driven by its StructureDefinition: each element that has a value,
 * in the definition's order, labelled by its name (the definition's short description as
 * its title), its value formatted by type (names, codes, quantities, references as links,
 * dates). Backbone elements nest with their own elements; other structures list their
 * parts. Elements the definition does not know (there should be none) come last.
 */
import type { Address, Annotation, Attachment, CodeableConcept, Coding, ContactPoint, ElementDefinition, HumanName, Identifier, Period, Quantity, Reference, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { numbersAsTexts } from '../../shared/fhir/exact-json';
import { codingText, conceptText, dateText, humanName, periodText, quantityText, referenceText } from '../fhir/format';
import { childElements, elementName, humanize } from './definitions';

const SKIPPED = new Set(['resourceType', 'id', 'meta', 'text', 'contained']);
const QUANTITIES = new Set(['Quantity', 'SimpleQuantity', 'Age', 'Duration', 'Distance', 'Count', 'MoneyQuantity']);

/** The address in this UI of a relative reference (`Patient/1` -> /patients/1, `Observation/2` -> /r/Observation/2). */
export function referenceHref(reference: string | undefined): string | undefined {
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference ?? '');
  if (!m) return undefined;
  return m[1] === 'Patient' ? `/patients/${encodeURIComponent(m[2]!)}` : `/r/${m[1]}/${encodeURIComponent(m[2]!)}`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function primitive(v: unknown, type: string | undefined): ReactNode {
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') return JSON.stringify(v);
  if (type === 'date' || type === 'dateTime' || type === 'instant') return <time dateTime={v}>{dateText(v)}</time>;
  return v;
}

function codingLine(c: Coding): string {
  const text = codingText(c);
  return c.code && text !== c.code ? `${text} (${c.code})` : text;
}

/** One value of a known data type, or undefined when the type has no formatter here. */
function dataType(v: unknown, type: string | undefined): ReactNode | undefined {
  if (!isObj(v)) return primitive(v, type);
  switch (type) {
    case 'HumanName':
      return humanName([v as HumanName]);
    case 'CodeableConcept': {
      const c = v as CodeableConcept;
      const codes = (c.coding ?? []).map((x) => x.code).filter(Boolean);
      const text = conceptText(c);
      return codes.length && text !== codes[0] ? `${text} (${codes.join(', ')})` : text || codes.join(', ');
    }
    case 'Coding':
      return codingLine(v as Coding);
    case 'Reference': {
      const r = v as Reference;
      const href = referenceHref(r.reference);
      const text = r.display ? `${r.display}${r.reference ? ` (${r.reference})` : ''}` : referenceText(r);
      return href ? <Link to={href}>{text}</Link> : text;
    }
    case 'Period':
      return periodText(v as Period);
    case 'Identifier': {
      const i = v as Identifier;
      return (
        <>
          {i.value}
          {i.system ? <small> ({i.system})</small> : null}
        </>
      );
    }
    case 'ContactPoint': {
      const c = v as ContactPoint;
      return `${c.system ? `${c.system}: ` : ''}${c.value ?? ''}${c.use ? ` (${c.use})` : ''}`;
    }
    case 'Address': {
      const a = v as Address;
      return a.text ?? [...(a.line ?? []), [a.postalCode, a.city].filter(Boolean).join(' '), a.state, a.country].filter(Boolean).join(', ');
    }
    case 'Annotation': {
      const a = v as unknown as Annotation;
      return `${a.text ?? ''}${a.time ? ` (${dateText(a.time)})` : ''}`;
    }
    case 'Attachment': {
      const a = v as Attachment;
      return [a.title, a.contentType, a.url].filter(Boolean).join(', ') || 'Attachment';
    }
    case 'Money':
      return `${String(v.value ?? '')} ${String(v.currency ?? '')}`.trim();
    default:
      if (type && QUANTITIES.has(type)) return quantityText(v as Quantity);
      return undefined;
  }
}

/** Any structure as a nested list of its parts. */
function Generic({ value }: { value: unknown }) {
  if (!isObj(value)) return <>{primitive(value, undefined)}</>;
  return (
    <dl className="facts nested">
      {Object.entries(value).map(([k, v]) => (
        <Entry key={k} label={humanize(k)} values={Array.isArray(v) ? v : [v]} render={(x) => (isObj(x) ? <Generic value={x} /> : primitive(x, undefined))} />
      ))}
    </dl>
  );
}

function Entry({ label, title, values, render }: { label: string; title?: string | undefined; values: unknown[]; render: (v: unknown) => ReactNode }) {
  return (
    <>
      <dt title={title}>{label}</dt>
      <dd>
        {values.length === 1 ? (
          render(values[0])
        ) : (
          <ul className="plain-list">
            {values.map((v, i) => (
              <li key={i}>{render(v)}</li>
            ))}
          </ul>
        )}
      </dd>
    </>
  );
}

/** The value's type: the element's only type, or the one its key names (`valueQuantity`). */
function typeFor(e: ElementDefinition, key: string): string | undefined {
  const types = (e.type ?? []).map((t) => t.code ?? '');
  if (types.length <= 1) return types[0];
  const name = elementName(e).replace(/\[x\]$/, '');
  const suffix = key.slice(name.length).toLowerCase();
  return types.find((t) => t.toLowerCase() === suffix);
}

function ElementsOf({ sd, path, value, top = false }: { sd: StructureDefinition | undefined; path: string; value: Record<string, unknown>; top?: boolean }) {
  const elements = childElements(sd, path);
  const used = new Set<string>();
  const rows: ReactNode[] = [];
  for (const e of elements) {
    const name = elementName(e);
    const keys = name.endsWith('[x]') ? Object.keys(value).filter((k) => k.startsWith(name.slice(0, -3)) && /^[A-Z]/.test(k.slice(name.length - 3))) : name in value ? [name] : [];
    for (const key of keys) {
      used.add(key);
      if (top && SKIPPED.has(key)) continue;
      const v = value[key];
      const type = typeFor(e, key);
      const values = Array.isArray(v) ? v : [v];
      const backbone = type === 'BackboneElement' || type === 'Element';
      rows.push(
        <Entry
          key={key}
          label={humanize(name)}
          title={e.short}
          values={values}
          render={(x) => (backbone && isObj(x) ? <ElementsOf sd={sd} path={e.path ?? ''} value={x} /> : (dataType(x, type) ?? <Generic value={x} />))}
        />,
      );
    }
  }
  for (const [key, v] of Object.entries(value)) {
    if (used.has(key) || key.startsWith('_') || (top && SKIPPED.has(key))) continue;
    rows.push(<Entry key={key} label={humanize(key)} values={Array.isArray(v) ? v : [v]} render={(x) => <Generic value={x} />} />);
  }
  return <dl className="facts">{rows}</dl>;
}

export function ResourceDetails({ resource, sd }: { resource: Resource; sd: StructureDefinition | undefined }) {
  // Decimals as stored (`1.10`, not `1.1`): each number with a kept text shown as that text.
  const shown = numbersAsTexts(resource);
  return <ElementsOf sd={sd} path={resource.resourceType} value={shown as unknown as Record<string, unknown>} top />;
}
