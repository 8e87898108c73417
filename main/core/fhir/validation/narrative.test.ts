/**
 * Narrative XHTML (narrative.ts): each rule of R4's xhtml type and of Narrative's txt-1 and
 * txt-2, accepted and refused, written from narrative.html; where narratives are found in
 * a resource and the paths reported; and the official examples and Synthea bundles.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { CORPUS, corpusAvailable, listJson, readJson } from '../../../../test/support/corpus';
import { narrativeIssues } from './narrative';

const NS = 'xmlns="http://www.w3.org/1999/xhtml"';
const div = (inner: string, attrs = '') => `<div ${NS}${attrs}>${inner}</div>`;
const narrative = (d: string) => ({ status: 'generated', div: d });
const issues = (d: string) => narrativeIssues({ resourceType: 'Patient', text: narrative(d) });
const errors = (d: string) => issues(d).filter((i) => i.severity === 'error').map((i) => i.diagnostics);
const warnings = (d: string) => issues(d).filter((i) => i.severity === 'warning').map((i) => i.diagnostics);

function expectValid(d: string): void {
  expect(issues(d), d).toEqual([]);
}
function expectRefused(d: string, rule: RegExp | string): void {
  const found = errors(d);
  expect(found.length, d).toBeGreaterThan(0);
  expect(found.some((m) => (typeof rule === 'string' ? m === rule : rule.test(m ?? ''))), `${d}\n${found.join('\n')}`).toBe(true);
}

describe('xhtml: one well-formed div element in the XHTML namespace', () => {
  it('accepts a plain narrative and reports problems at Patient.text.div', () => {
    expectValid(div('Ann Ash, born 1970'));
    expectValid(`\n  ${div('surrounding whitespace is XML whitespace')}\n`);
    expect(issues('<p>x</p>')[0]).toMatchObject({ severity: 'error', code: 'structure', expression: ['Patient.text.div'] });
  });

  it('refuses a root that is not div, and a div outside the XHTML namespace', () => {
    expectRefused(`<p ${NS}>x</p>`, 'Narrative must be a single div element (xhtml)');
    expectRefused(`<span ${NS}>x</span>`, /single div element/);
    expectRefused('<div>x</div>', /must be in the XHTML namespace/);
    expectRefused('<div xmlns="http://www.w3.org/TR/REC-html40">x</div>', /must be in the XHTML namespace/);
    expectRefused('<h:div xmlns:h="http://www.w3.org/1999/xhtml">x</h:div>', /namespace prefix|XHTML namespace/);
    expectRefused(div('<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>'), 'Narrative elements must all be in the XHTML namespace (xhtml)');
    expectRefused(div('<p xmlns="">x</p>'), /all be in the XHTML namespace/);
  });

  it('refuses plain text, text after the div and a second root', () => {
    expectRefused('Ann Ash, born 1970', /not well-formed XHTML: it must be a single div element/);
    expectRefused(`${div('x')} and more`, /single div element, with no text outside it/);
    expectRefused(`${div('x')}${div('y')}`, /more than one root element/);
    expectRefused('   ', /not well-formed/);
  });

  it('refuses unbalanced and unclosed tags, without naming them (a stray tag may be narrative text)', () => {
    expectRefused(div('<b>bold <i>both</b></i>'), /tags are not balanced/);
    expectRefused(`<div ${NS}><p>never closed</p>`, /tags are not balanced/);
    expectRefused(div('seen by <Smith> today'), /tags are not balanced/);
    expect(issues(div('seen by <Smith> today')).map((i) => i.diagnostics).join(' ')).not.toMatch(/Smith/);
    expectRefused(div('<br>'), /not balanced/);
    expectRefused(div('<p class="a" class="b">x</p>'), /repeats an attribute/);
  });

  it('allows only XML entities and numeric references (the XHTML is plain XML: no &nbsp;)', () => {
    expectValid(div('a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos; g&#160;h &#x1F600; &#233;'));
    expectRefused(div('a&nbsp;b'), /entity XML does not define/);
    expectRefused(div('&copy; 2024'), /entity XML does not define/);
    expectRefused(div('&#0;'), /malformed character reference/);
    expectRefused(div('AT&T'), /not well-formed/);
  });

  it('refuses DOCTYPE and entity declarations, expanding nothing (XXE-style input)', () => {
    const internal = `<!DOCTYPE div [<!ENTITY secret "expanded-value">]>${div('&secret;')}`;
    expectRefused(internal, 'Narrative must not contain a DOCTYPE or entity declarations (xhtml)');
    expect(JSON.stringify(issues(internal))).not.toContain('expanded-value');
    expectRefused(`<!DOCTYPE div [<!ENTITY x SYSTEM "file:///etc/passwd">]>${div('&x;')}`, /DOCTYPE/);
    expectRefused(`<!DOCTYPE div SYSTEM "http://example.org/x.dtd">${div('x')}`, /DOCTYPE/);
    expectRefused(`<!DOCTYPE div [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>${div('&b;')}`, /DOCTYPE/);
  });

  it('refuses CDATA, processing instructions and an XML declaration', () => {
    expectRefused(div('<![CDATA[5 < 6]]>'), /must not contain CDATA/);
    // What an HTML parser would make of it: a comment ending at the first '>', then a live img.
    expectRefused(div('<![CDATA[><img src="x" onerror="alert(1)">]]>'), /CDATA/);
    expectRefused(div('<?php echo 1 ?>x'), 'Narrative must not contain processing instructions (xhtml)');
    expectRefused(`<?xml-stylesheet href="evil.css"?>${div('x')}`, /processing instructions/);
    expectRefused(`<?xml version="1.0" encoding="UTF-8"?>${div('x')}`, /without an XML declaration/);
  });

  it('allows comments, but not those an HTML parser would end early', () => {
    expectValid(div('<!-- generated by Flint -->x<!---->'));
    expectRefused(div('<!--><img src="x" onerror="alert(1)"/>-->x'), /comment that an HTML parser ends early/);
    expectRefused(div('<!---><img src="x"/>-->x'), /ends early/);
  });
});

describe('txt-1: only the basic HTML formatting elements and attributes', () => {
  it('accepts every element and attribute the spec allows (HTML 4.0 chapters 7-11 and 15, a, img, style)', () => {
    expectValid(
      div(
        '<h1>H1</h1><h2>H2</h2><h3>H3</h3><h4>H4</h4><h5>H5</h5><h6 id="h6" class="c" title="t" lang="en" xml:lang="en" dir="ltr">H6</h6>' +
          '<p align="left" style="color: red; font-weight: bold">p <span>span</span> <a name="top">anchor</a> <a href="#top">link</a> ' +
          '<a href="https://hl7.org/fhir/R4/narrative.html" rel="help" hreflang="en" type="text/html">spec</a> <a href="mailto:a@example.org">mail</a> ' +
          '<a href="tel:+15551234">phone</a> <a href="Patient/123">relative</a> <a href="urn:oid:2.16.840.1.113883">oid</a> ' +
          '<b>b</b><br/><em>em</em><i>i</i><strong>strong</strong><small>small</small><big>big</big><tt>tt</tt><dfn>dfn</dfn>' +
          '<q cite="https://example.org/src">q</q><var>var</var><abbr title="Health Level 7">HL7</abbr><acronym title="x">FHIR</acronym>' +
          '<cite>cite</cite><code>code</code><samp>samp</samp><kbd>kbd</kbd><sub>sub</sub><sup>sup</sup><bdo dir="rtl">bdo</bdo></p>' +
          '<blockquote cite="#q">quote</blockquote><hr/><address>1 Main St</address><pre xml:space="preserve"> pre </pre>' +
          '<ul compact="compact"><li value="1">u</li></ul><ol start="2" type="a"><li>o</li></ol><dl><dt>t</dt><dd>d</dd></dl>' +
          '<table border="1" cellpadding="2" cellspacing="0" summary="s" width="100%" frame="box" rules="all" bgcolor="#ffffff">' +
          '<caption>cap</caption><colgroup span="2"><col width="10" align="char" char="." charoff="1" valign="top"/></colgroup>' +
          '<thead><tr><th scope="col" abbr="a" axis="x">h</th></tr></thead><tfoot><tr><td>f</td></tr></tfoot>' +
          '<tbody><tr><td colspan="2" rowspan="1" headers="h" nowrap="nowrap" height="3">d</td></tr></tbody></table>' +
          '<img src="#photo" alt="photo" width="10" height="10" border="0" hspace="1" vspace="1" longdesc="#desc"/>' +
          '<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline"/><img src="Binary/scan-1" alt="on this server"/>',
        ' tabindex="0" accesskey="n"',
      ),
    );
  });

  it.each(['script', 'form', 'input', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'link', 'meta', 'style', 'head', 'body', 'html', 'title', 'button', 'textarea', 'svg', 'math', 'video', 'noscript', 'template'])(
    'refuses the element %s, naming it',
    (name) => {
      expectRefused(div(`before <${name}>x</${name}> after`), `Narrative must not contain the element '${name}' (txt-1)`);
    },
  );

  it('refuses deprecated elements and ins/del (HTML 4.0 section 9.4 is excluded)', () => {
    for (const name of ['u', 'font', 'center', 's', 'strike', 'ins', 'del', 'map', 'area']) {
      expectRefused(div(`<${name}>x</${name}>`), `Narrative must not contain the element '${name}' (txt-1)`);
    }
  });

  it('is case-sensitive, as XHTML is, and names only elements it knows to be HTML', () => {
    expectRefused(div('<SCRIPT>alert(1)</SCRIPT>'), "Narrative must not contain the element 'SCRIPT' (txt-1)");
    expectRefused(div('<B>x</B>'), 'Narrative contains an element that is not allowed in narrative (txt-1)');
    expectRefused(div('<patientname>Jane</patientname>'), 'Narrative contains an element that is not allowed in narrative (txt-1)');
  });

  it('refuses event attributes in any case, naming them', () => {
    for (const attr of ['onclick', 'onload', 'onerror', 'onmouseover', 'onClick', 'ONLOAD', 'OnFocus']) {
      expectRefused(div(`<p ${attr}="alert(1)">x</p>`), `Narrative must not contain the event attribute '${attr}' (txt-1)`);
    }
    expectRefused(div('x', ' onload="alert(1)"'), /event attribute 'onload'/);
    expectRefused(div('<img src="#a" onerror="alert(1)"/>'), /event attribute 'onerror'/);
  });

  it('refuses other attributes outside the list; names HTML ones only', () => {
    expectRefused(div('<a href="https://example.org" target="_blank">x</a>'), "Narrative must not contain the attribute 'target' (txt-1)");
    expectRefused(div('<img src="#a" srcset="https://evil.example/x.png 2x"/>'), /attribute 'srcset'/);
    expectRefused(div('<table background="https://evil.example/x.png"><tr><td>x</td></tr></table>'), /attribute 'background'/);
    expectRefused(div('<a xlink:href="javascript:alert(1)" xmlns:xlink="http://www.w3.org/1999/xlink">x</a>'), /xlink attributes/);
    expectRefused(div('<p xmlns:x="urn:x">x</p>'), /must not declare other XML namespaces/);
    expectRefused(div('<p data-secret="1">x</p>'), 'Narrative contains an attribute that is not allowed in narrative (txt-1)');
    expectRefused(div('<p STYLE="color:red">x</p>'), /attribute that is not allowed/);
  });

  it('refuses script URLs in links however they are written', () => {
    // As written, in capitals, after spaces, split by a tab reference or a literal newline
    // (XML makes that a space; an HTML parser would keep it and the URL parser drop it), encoded.
    for (const href of ['javascript:alert(1)', 'JavaScript:alert(1)', '  javascript:alert(1)', 'java&#9;script:alert(1)', 'java\nscript:alert(1)', '&#106;avascript:alert(1)']) {
      expectRefused(div(`<a href="${href}">x</a>`), "Narrative attribute 'href' must not hold a 'javascript:' URL (txt-1)");
    }
    expectRefused(div('<a href="&#x01;javascript:alert(1)">x</a>'), /not well-formed/); // XML 1.0 forbids U+0001
    expectRefused(div('<a href="vbscript:msgbox(1)">x</a>'), /'vbscript:' URL/);
    expectRefused(div('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>'), /'data:' URL/);
    expectRefused(div('<a href="file:///etc/passwd">x</a>'), /'file:' URL/);
    expectRefused(div('<a href="custom-app:open">x</a>'), "Narrative attribute 'href' must be a relative, http(s), ftp, mailto, tel or urn URL (txt-1)");
    expectRefused(div('<q cite="javascript:alert(1)">x</q>'), /attribute 'cite' must not hold a 'javascript:' URL/);
    expectValid(div('<a href="http://example.org/a?b=c&amp;d=e">x</a> <a href="//example.org/x">y</a> <a href="#">z</a>'));
  });

  it('takes img src only from the resource, the server or a data:image URL; another server is a warning', () => {
    expectValid(div('<img src="#image-1" alt="a"/><img src="Binary/1" alt="b"/><img src="data:image/svg+xml;base64,PHN2Zy8+" alt="c"/>'));
    expectRefused(div('<img src="javascript:alert(1)"/>'), "Narrative attribute 'src' must not hold a 'javascript:' URL other than a data:image one (txt-1)");
    expectRefused(div('<img src="data:text/html;base64,PHNjcmlwdD4="/>'), /'data:' URL other than a data:image/);
    expectRefused(div('<img src="ftp://example.org/x.png"/>'), "Narrative attribute 'src' must be '#id', a relative URL or a data:image URL (txt-1)");
    for (const src of ['https://tracker.example/pixel.png', 'http://imaging.example/wado?x=1', '//tracker.example/p.png', '\\\\tracker.example/p.png']) {
      const d = div(`<img src="${src}" alt="x"/>`);
      expect(errors(d), src).toEqual([]);
      expect(warnings(d), src).toEqual([expect.stringMatching(/img 'src' is on another server.*\(txt-1\)/)]);
    }
  });

  it('keeps styles internal: no loading, no script', () => {
    expectValid(div('x', ' style="color: #333; border: 1px solid black; background-color: rgb(1, 2, 3); font-family: \'Times New Roman\'"'));
    // The official examples' form, a space after "data:" included.
    expectValid(div('x', ' style="background-image: url(data: image/png;base64,iVBORw0KGgo=); background-repeat: repeat-y"'));
    expectValid(div('x', ' style="background: url(\'data:image/gif;base64,R0lGOD==\')"'));
    const refused: [string, RegExp][] = [
      ['background: url(https://tracker.example/p.png)', /may only use url\(\) with a data:image URL/],
      ["background: url('logo.png')", /data:image URL/],
      ['background: URL(//evil.example/x)', /data:image URL/],
      ['background: url(data:text/html,x)', /data:image URL/],
      ['width: expression(alert(1))', /must not run script, import or load anything/],
      ['width: expr/**/ession(alert(1))', /must not run script/],
      ['behavior: url(#default#time2)', /must not run script/],
      ['-moz-binding: url(x.xml#y)', /must not run script/],
      ['@import "https://evil.example/x.css"', /must not run script/],
      ["background-image: image-set('https://evil.example/x.png' 1x)", /must not run script, import or load/],
      ['background: u\\72l(https://evil.example/x)', /must not use CSS escapes/],
    ];
    for (const [style, rule] of refused) expectRefused(div('x', ` style="${style}"`), rule);
  });
});

describe('txt-2: some non-whitespace content', () => {
  it('warns (never refuses) on a narrative of whitespace and empty elements', () => {
    const rule = 'Narrative should have some non-whitespace content: text or an image (txt-2)';
    for (const d of [div('  \n\t  '), `<div ${NS}/>`, div('<p> </p><br/><table><tr><td>\n</td></tr></table>'), div('<img alt="no source"/>'), div('<!-- only a comment -->')]) {
      const issues = narrativeIssues({ resourceType: 'Patient', text: { status: 'generated', div: d } });
      expect(issues.filter((i) => i.severity === 'error'), d).toEqual([]);
      expect(issues.filter((i) => i.severity === 'warning').map((i) => i.diagnostics), d).toEqual([rule]);
    }
  });

  it('accepts any text, or an image with a source', () => {
    expectValid(div('<p>.</p>'));
    expectValid(div('&#160;')); // not XML whitespace
    expectValid(div('<img src="#scan" alt=""/>'));
  });
});

describe('size', () => {
  it('checks a huge valid table, and deep nesting, without failing', () => {
    const rows = Array.from({ length: 20000 }, (_, i) => `<tr><td>${i}</td><td style="color: #00${i % 10}">value &amp; unit</td></tr>`).join('');
    expectValid(div(`<table><tbody>${rows}</tbody></table>`));
    expectValid(div(`${'<span>'.repeat(20000)}deep${'</span>'.repeat(20000)}`));
  });
});

describe('where narratives are, and the paths reported', () => {
  const bad = narrative(div('<script>alert(1)</script>'));
  const good = narrative(div('fine'));
  const paths = (r: unknown) => narrativeIssues(r).map((i) => i.expression?.[0]);

  it('checks contained resources, at any index, with the container path', () => {
    expect(paths({ resourceType: 'Observation', text: good, contained: [{ resourceType: 'Patient', text: good }, { resourceType: 'Patient', text: bad }] })).toEqual([
      'Observation.contained[1].text.div',
    ]);
  });

  it('checks Bundle entries, their contained resources, nested Bundles and response outcomes', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Patient', text: good, contained: [{ resourceType: 'Organization' }, { resourceType: 'Organization', text: bad }] } },
        { fullUrl: 'urn:uuid:1' },
        { resource: { resourceType: 'Observation', text: bad } },
        { resource: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', text: bad } }] } },
        { response: { status: '400', outcome: { resourceType: 'OperationOutcome', text: bad, issue: [] } } },
      ],
    };
    expect(paths(bundle).sort()).toEqual(
      [
        'Bundle.entry[0].resource.contained[1].text.div',
        'Bundle.entry[2].resource.text.div',
        'Bundle.entry[3].resource.entry[0].resource.text.div',
        'Bundle.entry[4].response.outcome.text.div',
      ].sort(),
    );
  });

  it('checks Parameters resources, in parts at any depth', () => {
    const parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'a', valueString: '<script>not xhtml: a string</script>' },
        { name: 'b', resource: { resourceType: 'Patient', text: bad } },
        { name: 'c', part: [{ name: 'd', part: [{ name: 'e', resource: { resourceType: 'Patient', text: bad } }] }] },
      ],
    };
    expect(paths(parameters).sort()).toEqual(['Parameters.parameter[1].resource.text.div', 'Parameters.parameter[2].part[0].part[0].resource.text.div']);
  });

  it('reads only Narrative.div: other strings are not xhtml; wrong types and empty strings are for other checks', () => {
    expect(paths({ resourceType: 'Observation', valueString: '<script>x</script>', note: [{ text: '<script>x</script>' }], component: [{ text: bad }] })).toEqual([]);
    expect(paths({ resourceType: 'Patient', text: { status: 'generated', div: 42 } })).toEqual([]);
    expect(paths({ resourceType: 'Patient', text: { status: 'empty', div: '' } })).toEqual([]);
    expect(paths({ resourceType: 'Patient', entry: [{ resource: { resourceType: 'Patient', text: bad } }] })).toEqual([]); // not a Bundle
    expect(paths(null)).toEqual([]);
    expect(paths('<script>')).toEqual([]);
  });

  it('never quotes the narrative in its messages', () => {
    const secret = 'JaneSecretDoe';
    const hostile = [
      div(`${secret}<script>${secret}</script>`),
      div(`<a href="javascript:${secret}">${secret}</a>`),
      div(`<p onclick="${secret}" title="${secret}">${secret}</p>`),
      div(`<${secret}>x</${secret}>`),
      div(`<p ${secret}="x">x</p>`),
      div(`<img src="https://${secret}.example/x.png"/>`),
      div(`x`, ` style="background: url(https://${secret}.example/)"`),
      `${secret} is not xhtml`,
      div(`&${secret};`),
      div(`<b>${secret}</i>`),
    ];
    for (const d of hostile) {
      const found = issues(d);
      expect(found.length, d).toBeGreaterThan(0);
      expect(JSON.stringify(found), d).not.toContain(secret);
    }
  });
});

interface Resource {
  resourceType?: string;
}

/**
 * R4 examples whose narrative is a div of whitespace only: they break txt-2 ("The narrative
 * SHALL have some non-whitespace content"). Issue 12 keeps all official examples but two
 * storable, so txt-2 is a warning: these four get exactly that warning and no error.
 */
const EMPTY_NARRATIVE_EXAMPLES = [
  'ActivityDefinition-blood-tubes-supply.json',
  'ActivityDefinition-heart-valve-replacement.json',
  'EventDefinition-example.json',
  'Questionnaire-zika-virus-exposure-assessment.json',
];

describe.runIf(corpusAvailable())('narratives of the official R4 examples and the Synthea bundles', () => {
  function check(files: string[], folder: string[]): { errors: Map<string, OperationOutcomeIssue[]>; warnings: Map<string, OperationOutcomeIssue[]>; divs: number; ms: number } {
    const resources = files.map((f) => readJson<Resource>(...folder, f));
    const found = new Map<string, OperationOutcomeIssue[]>();
    const warned = new Map<string, OperationOutcomeIssue[]>();
    const all = resources.map((r) => narrativeIssues(r));
    // The speed of a warm pass, as on a running server (the first one pays for the JIT).
    const start = performance.now();
    for (const r of resources) narrativeIssues(r);
    const ms = performance.now() - start;
    all.forEach((list, i) => {
      const errs = list.filter((x) => x.severity === 'error');
      if (errs.length) found.set(files[i] as string, errs);
      const warns = list.filter((x) => x.severity === 'warning' && x.diagnostics?.endsWith('(txt-2)'));
      if (warns.length) warned.set(files[i] as string, warns);
    });
    const divs = JSON.stringify(resources).split('"div":"').length - 1;
    return { errors: found, warnings: warned, divs, ms };
  }

  it('passes every official example; the four whose narrative is empty get a txt-2 warning', () => {
    const index = readFileSync(join(CORPUS, 'r4-examples', 'index.ndjson'), 'utf8').trim().split('\n');
    const files = index.map((line) => (JSON.parse(line) as { file: string }).file);
    expect(files.length).toBe(743);
    const { errors: found, warnings, divs, ms } = check(files, ['r4-examples']);
    expect([...found.keys()]).toEqual([]);
    expect([...warnings.keys()].sort()).toEqual(EMPTY_NARRATIVE_EXAMPLES);
    console.log(`R4 examples: ${divs} narratives checked in ${ms.toFixed(0)} ms (${((ms * 1000) / divs).toFixed(1)} µs per narrative)`);
  });

  it('passes every Synthea bundle', () => {
    for (const folder of ['smart-2019', 'synthea-hiv-2021']) {
      const { errors: found, divs, ms } = check(listJson('synthea', folder), ['synthea', folder]);
      expect([...found.keys()], folder).toEqual([]);
      console.log(`Synthea ${folder}: ${divs} narratives, all resources checked in ${ms.toFixed(1)} ms`);
    }
  });
});
