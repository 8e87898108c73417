/**
 * The R4 rules for narrative XHTML (Narrative.div, the only xhtml in R4; narrative.html,
 * Narrative's invariants txt-1 and txt-2). A narrative is shown to whoever views the
 * record, so its div is a script-injection path unless it is held to the spec:
 *  - xhtml: one well-formed XML `div` element in the XHTML namespace (xmlns, no prefix),
 *    with only XML's own entities or numeric character references (no `&nbsp;`), and no
 *    DOCTYPE, entity declarations, processing instructions, XML declaration or CDATA
 *    (an HTML parser reads `<![CDATA[` as a comment ending at the first `>`, so markup
 *    hidden in one would come alive in a viewer that renders the div as HTML).
 *  - txt-1: only the elements and attributes of HTML 4.0 chapters 7-11 (but not 9.4,
 *    ins/del) and 15, images and `<a>` (name or href), and internally contained styles.
 *    The lists below are the spec's own (the invariant's xpath) plus address, bdo and kbd,
 *    which those chapters define too, and xml:lang/xml:space; the deprecated elements
 *    (u, s, strike, font, center...) stay out as narrative.html requires. URLs must not run
 *    script: links are http(s), ftp, mailto, tel, urn or relative; an img src is an image
 *    in the resource (`#id`), a relative URL or a `data:image/` URL, and one on another
 *    server is a warning (the official Media example has one; showing it would contact
 *    that server). A style must not load anything (url() only for data:image) nor run
 *    anything (expression(), bindings, escapes that could hide either). A comment that an
 *    HTML parser would end early (`<!-->`) is refused for the same reason as CDATA.
 *  - txt-2: some non-whitespace text, or an img with a src (a warning: see checkDiv).
 * Messages name the rule and the element or attribute, and only names we know to be HTML
 * or CSS (a stray `<John>` in a narrative is content, and content may be PHI).
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { SaxesParser } from 'saxes';

const XHTML_NS = 'http://www.w3.org/1999/xhtml';
const MAX_ISSUES_PER_DIV = 20;
const PARSER_OPTIONS = { xmlns: false, position: false } as const;

const ALLOWED_ELEMENTS = new Set(
  ('a abbr acronym address b bdo big blockquote br caption cite code col colgroup dd dfn div dl dt em ' +
    'h1 h2 h3 h4 h5 h6 hr i img kbd li ol p pre q samp small span strong sub sup table tbody td tfoot th thead tr tt ul var').split(' '),
);
const ALLOWED_ATTRIBUTES = new Set(
  ('abbr accesskey align alt axis bgcolor border cellhalign cellpadding cellspacing cellvalign char charoff charset cite ' +
    'class colspan compact coords dir frame headers height href hreflang hspace id lang longdesc name nowrap rel rev ' +
    'rowspan rules scope shape span src start style summary tabindex title type valign value vspace width xml:lang xml:space').split(' '),
);
/** Element names a message may quote: HTML's, so never a narrative's own words. */
const HTML_ELEMENTS = new Set(
  ('applet area article aside audio base basefont bdi bgsound blink body button canvas center data datalist del details ' +
    'dialog dir embed fieldset figcaption figure font footer form frame frameset head header html iframe image input ins ' +
    'isindex keygen label legend link listing main map mark marquee math menu meta meter nav nobr noembed noframes ' +
    'noscript object optgroup option output param picture plaintext portal progress rp rt ruby s script section select ' +
    'slot source strike style summary svg template textarea time title track u video wbr xmp').split(' '),
);
const HTML_ATTRIBUTES = new Set(
  ('action autofocus background classid clear code codebase color content contenteditable data datasrc download draggable ' +
    'dynsrc enctype face form formaction hidden http-equiv ismap language lowsrc manifest method noshade ping poster ' +
    'size srcdoc srcset target usemap').split(' '),
);
/** Attributes holding a URL the browser may follow; src is checked apart as an image. */
const LINK_ATTRIBUTES = new Set(['href', 'cite', 'longdesc']);
const LINK_SCHEMES = new Set(['http', 'https', 'ftp', 'mailto', 'tel', 'urn']);
const SCRIPT_SCHEMES = new Set(['javascript', 'vbscript', 'data', 'livescript', 'file', 'blob', 'filesystem']);

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
/** Browsers delete tabs and newlines anywhere in a URL. XML has already turned literal ones
 * in an attribute into spaces, which a viewer parsing the div as HTML would not: so spaces go too. */
const URL_WHITESPACE = /[\t\n\r ]/g;
const DATA_IMAGE = /^data:\s*image\//i;
const NETWORK_PATH = /^[\\/]{2}/;
const URL_QUOTES_SPACES = /[\s'"]/g;
const EVENT_ATTRIBUTE = /^on[a-z]+$/i;
const NON_WHITESPACE = /[^ \t\r\n]/;
const CSS_COMMENT = /\/\*[\s\S]*?(\*\/|$)/g;
/** CSS that runs code or loads from elsewhere without url(): IE expressions and behaviours,
 * Mozilla bindings, imports, script URLs, and the image functions that take bare strings. */
const CSS_ACTIVE =
  /expression\s*\(|@import|behaviou?r\s*:|-moz-binding|javascript:|vbscript:|(?:^|[^a-z0-9_-])(?:-webkit-|-moz-)?(?:image-set|image|cross-fade|element|src)\s*\(/;

interface DivState {
  path: string;
  out: OperationOutcomeIssue[];
  seen: Set<string>;
  broken: boolean;
  sawRoot: boolean;
  hasContent: boolean;
}

/** Issues for every Narrative.div (xhtml) value in the resource, contained resources and Bundle entry resources included. */
export function narrativeIssues(resource: unknown): OperationOutcomeIssue[] {
  const out: OperationOutcomeIssue[] = [];
  if (!isObject(resource)) return out;
  // Only where a resource can be: the root, contained[], Bundle entries (and their
  // outcomes), Parameters parameters and parts. A work list, not recursion: the nesting
  // depth is the sender's choice. Resources come out in document order, level by level.
  const work: [Record<string, unknown>, string][] = [[resource, typeof resource.resourceType === 'string' ? resource.resourceType : 'Resource']];
  for (let w = 0; w < work.length; w++) {
    const [r, path] = work[w] as [Record<string, unknown>, string];
    const text = r.text;
    if (isObject(text) && typeof text.div === 'string' && text.div !== '') checkDiv(text.div, `${path}.text.div`, out);
    eachObject(r.contained, (c, i) => work.push([c, `${path}.contained[${i}]`]));
    if (r.resourceType === 'Bundle') {
      eachObject(r.entry, (e, i) => {
        if (isObject(e.resource)) work.push([e.resource, `${path}.entry[${i}].resource`]);
        if (isObject(e.response) && isObject(e.response.outcome)) work.push([e.response.outcome, `${path}.entry[${i}].response.outcome`]);
      });
    } else if (r.resourceType === 'Parameters') {
      const lists: [unknown, string][] = [[r.parameter, `${path}.parameter`]];
      for (let l = 0; l < lists.length; l++) {
        const [list, at] = lists[l] as [unknown, string];
        eachObject(list, (p, i) => {
          if (isObject(p.resource)) work.push([p.resource, `${at}[${i}].resource`]);
          if (p.part !== undefined) lists.push([p.part, `${at}[${i}].part`]);
        });
      }
    }
  }
  return out;
}

/** Checks one div value (the empty string is json-rules' to report), appending its issues. */
function checkDiv(div: string, path: string, out: OperationOutcomeIssue[]): void {
  const s: DivState = { path, out, seen: new Set(), broken: false, sawRoot: false, hasContent: false };
  // A parser per div: construction costs well under a microsecond, and a parse that failed
  // half-way leaves nothing behind for the next resource.
  const parser = new SaxesParser<{ xmlns: false; position: false }>(PARSER_OPTIONS);
  parser.on('error', (e) => notWellFormed(s, e.message));
  parser.on('opentag', (tag) => openTag(s, tag.name, tag.attributes));
  // Text outside the root is an error already, or whitespace: any other text is content.
  parser.on('text', (t) => {
    if (!s.hasContent && NON_WHITESPACE.test(t)) s.hasContent = true;
  });
  try {
    parser.write(div).close();
  } catch (e) {
    // saxes reports through the handler; a throw would be a fault of its own: treat it alike.
    notWellFormed(s, e instanceof Error ? e.message : '');
  }
  // Comments, CDATA, processing instructions, DOCTYPE and the XML declaration all start
  // with '<!' or '<?' (a well-formed div has no other '<' but tags), and most narratives
  // have none. saxes keeps each handler as a property added to the parser object: with
  // all eight on one parser it turns several times slower (and slows every later parse
  // with it), so those five get a second parser of their own, run only when needed.
  if (div.includes('<!') || div.includes('<?')) checkMarkupDeclarations(s, div);
  // A warning, not an error: four official R4 examples have whitespace-only narratives,
  // and issue 12 keeps every official example but two storable (docs/decisions.md).
  if (!s.broken && s.sawRoot && !s.hasContent) report(s, 'invariant', 'Narrative should have some non-whitespace content: text or an image (txt-2)', 'warning');
}

function checkMarkupDeclarations(s: DivState, div: string): void {
  const parser = new SaxesParser<{ xmlns: false; position: false }>(PARSER_OPTIONS);
  parser.on('xmldecl', () => report(s, 'structure', 'Narrative must be a div element, without an XML declaration (xhtml)'));
  parser.on('doctype', () => report(s, 'structure', 'Narrative must not contain a DOCTYPE or entity declarations (xhtml)'));
  parser.on('processinginstruction', () => report(s, 'structure', 'Narrative must not contain processing instructions (xhtml)'));
  parser.on('cdata', () => report(s, 'structure', 'Narrative must not contain CDATA sections: an HTML parser reads them differently (xhtml)'));
  parser.on('comment', (c) => {
    // HTML ends a comment at `<!-->` or `<!--->`; what follows would be live markup.
    if (c.startsWith('>') || c.startsWith('->')) report(s, 'invariant', 'Narrative must not contain a comment that an HTML parser ends early (txt-1)');
  });
  try {
    parser.write(div).close(); // well-formedness errors are the first parser's to report
  } catch {
    // without an error handler saxes throws at the first one: what came before is reported
  }
}

function openTag(s: DivState, name: string, attributes: Record<string, string>): void {
  if (!s.sawRoot) {
    s.sawRoot = true;
    if (name !== 'div') report(s, 'structure', 'Narrative must be a single div element (xhtml)');
    if (attributes.xmlns !== XHTML_NS) report(s, 'structure', `Narrative div must be in the XHTML namespace: xmlns="${XHTML_NS}" (xhtml)`);
  } else if (attributes.xmlns !== undefined && attributes.xmlns !== XHTML_NS) {
    report(s, 'structure', 'Narrative elements must all be in the XHTML namespace (xhtml)');
  }
  if (name.includes(':')) report(s, 'structure', 'Narrative elements must not have a namespace prefix (xhtml)');
  else if (!ALLOWED_ELEMENTS.has(name)) {
    report(s, 'invariant', HTML_ELEMENTS.has(name.toLowerCase()) ? `Narrative must not contain the element '${name}' (txt-1)` : 'Narrative contains an element that is not allowed in narrative (txt-1)');
  }
  for (const attr in attributes) {
    const value = attributes[attr] as string;
    if (attr === 'xmlns') continue;
    if (ALLOWED_ATTRIBUTES.has(attr)) {
      if (LINK_ATTRIBUTES.has(attr)) checkLink(s, attr, value);
      else if (attr === 'src') checkImageSource(s, value);
      else if (attr === 'style') checkStyle(s, value);
      if (name === 'img' && attr === 'src') s.hasContent = true;
    } else if (EVENT_ATTRIBUTE.test(attr)) report(s, 'invariant', `Narrative must not contain the event attribute '${attr}' (txt-1)`);
    else if (attr.startsWith('xmlns:')) report(s, 'structure', 'Narrative must not declare other XML namespaces (xhtml)');
    else if (attr.startsWith('xlink:')) report(s, 'invariant', 'Narrative must not contain xlink attributes (txt-1)');
    else if (HTML_ATTRIBUTES.has(attr.toLowerCase())) report(s, 'invariant', `Narrative must not contain the attribute '${attr}' (txt-1)`);
    else report(s, 'invariant', 'Narrative contains an attribute that is not allowed in narrative (txt-1)');
  }
}

/** A URL as a browser could read it: whitespace removed, leading control characters too. */
function browserUrl(value: string): string {
  const url = value.replace(URL_WHITESPACE, '');
  let start = 0;
  while (start < url.length && url.charCodeAt(start) <= 0x20) start++; // C0 controls and spaces
  return start ? url.slice(start) : url;
}

function checkLink(s: DivState, attr: string, value: string): void {
  const scheme = SCHEME.exec(browserUrl(value))?.[1]?.toLowerCase();
  if (scheme === undefined || LINK_SCHEMES.has(scheme)) return;
  report(
    s,
    'invariant',
    SCRIPT_SCHEMES.has(scheme)
      ? `Narrative attribute '${attr}' must not hold a '${scheme}:' URL (txt-1)`
      : `Narrative attribute '${attr}' must be a relative, http(s), ftp, mailto, tel or urn URL (txt-1)`,
  );
}

function checkImageSource(s: DivState, value: string): void {
  const url = browserUrl(value);
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (NETWORK_PATH.test(url)) externalImage(s);
    return; // '#id' (an image in the resource) or relative to the server
  }
  if (scheme === 'data' && DATA_IMAGE.test(url)) return;
  if (scheme === 'http' || scheme === 'https') return externalImage(s);
  report(
    s,
    'invariant',
    SCRIPT_SCHEMES.has(scheme)
      ? `Narrative attribute 'src' must not hold a '${scheme}:' URL other than a data:image one (txt-1)`
      : "Narrative attribute 'src' must be '#id', a relative URL or a data:image URL (txt-1)",
  );
}

function externalImage(s: DivState): void {
  report(s, 'invariant', "Narrative img 'src' is on another server: showing the record would fetch it; prefer a contained image ('#id') or a data:image URL (txt-1)", 'warning');
}

/** Style attributes are "internally contained": they may neither load nor run anything. */
function checkStyle(s: DivState, value: string): void {
  const css = value.replace(CSS_COMMENT, '').toLowerCase();
  if (css.includes('\\')) return report(s, 'invariant', "Narrative attribute 'style' must not use CSS escapes (txt-1)");
  if (CSS_ACTIVE.test(css)) return report(s, 'invariant', "Narrative attribute 'style' must not run script, import or load anything (txt-1)");
  for (let at = css.indexOf('url('); at >= 0; at = css.indexOf('url(', at + 4)) {
    const end = css.indexOf(')', at);
    const arg = css.slice(at + 4, end < 0 ? css.length : end).replace(URL_QUOTES_SPACES, '');
    if (end < 0 || !arg.startsWith('data:image/')) {
      return report(s, 'invariant', "Narrative attribute 'style' may only use url() with a data:image URL (txt-1)");
    }
  }
}

/** One issue for the first well-formedness error: what follows a broken spot is noise. */
function notWellFormed(s: DivState, message: string): void {
  if (s.broken) return;
  s.broken = true;
  report(s, 'structure', `Narrative is not well-formed XHTML: ${explain(message)} (xhtml)`);
}

/** saxes' messages may name a tag, which may be narrative text: say what is wrong in our words. */
function explain(message: string): string {
  if (message.includes('undefined entity')) return 'it uses an entity XML does not define (use the character or a numeric reference such as &#160;)';
  if (message.includes('character entity')) return 'it has a malformed character reference';
  if (message.includes('outside of root') || message.includes('must contain a root')) return 'it must be a single div element, with no text outside it';
  if (message.includes('only one root')) return 'it has more than one root element';
  if (message.includes('close tag') || message.includes('closing tag') || message.includes('unclosed')) return 'its tags are not balanced';
  if (message.includes('duplicate attribute')) return 'an element repeats an attribute';
  if (message.includes('disallowed character')) return 'it contains a character XML does not allow';
  return 'it is not well-formed XML';
}

function report(s: DivState, code: 'structure' | 'invariant', diagnostics: string, severity: 'error' | 'warning' = 'error'): void {
  if (s.seen.has(diagnostics) || s.seen.size >= MAX_ISSUES_PER_DIV) return;
  s.seen.add(diagnostics);
  s.out.push({ severity, code, diagnostics, expression: [s.path] });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function eachObject(list: unknown, f: (item: Record<string, unknown>, index: number) => void): void {
  if (!Array.isArray(list)) return;
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    if (isObject(item)) f(item, i);
  }
}
