// @vitest-environment jsdom
/**
 * Stored narratives are shown through DOMPurify with an allow-list: formatting stays,
 * anything that runs, loads or navigates away goes, whatever the validator let in.
 */
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Narrative, sanitizeNarrative } from './Narrative';

afterEach(cleanup);

describe('sanitizeNarrative', () => {
  it('keeps the XHTML formatting of a narrative', () => {
    const html = '<div xmlns="http://www.w3.org/1999/xhtml"><p><b>Ann</b> <i>Ash</i></p><table><tr><td colspan="2">BP</td></tr></table><ul><li>one</li></ul></div>';
    const clean = sanitizeNarrative(html);
    for (const kept of ['<b>Ann</b>', '<i>Ash</i>', '<td colspan="2">BP</td>', '<li>one</li>']) expect(clean).toContain(kept);
  });

  it.each([
    ['a script element', '<div><script>alert(1)</script>text</div>', /script|alert/],
    ['an event handler', '<div><p onclick="alert(1)">text</p></div>', /onclick|alert/],
    ['a javascript: link', '<div><a href="javascript:alert(1)">x</a></div>', /javascript/],
    ['an external image (a tracking beacon)', '<div><img src="https://evil.example/x.png"></div>', /evil\.example/],
    ['an external link', '<div><a href="https://evil.example/">x</a></div>', /evil\.example/],
    ['inline style', '<div><p style="background:url(https://evil.example/)">x</p></div>', /style|evil/],
    ['a form', '<div><form action="https://evil.example/"><input name="p"></form></div>', /form|input|evil/],
    ['an iframe', '<div><iframe src="https://evil.example/"></iframe></div>', /iframe|evil/],
    ['an svg with a script', '<div><svg><script>alert(1)</script></svg></div>', /svg|script|alert/],
  ])('removes %s', (_what, html, banned) => {
    expect(sanitizeNarrative(html)).not.toMatch(banned);
  });

  it('keeps in-page anchors and inline images', () => {
    const clean = sanitizeNarrative('<div><a href="#top">up</a><img src="data:image/png;base64,iVBORw0KGgo=" alt="dot"></div>');
    expect(clean).toContain('href="#top"');
    expect(clean).toContain('src="data:image/png;base64,iVBORw0KGgo="');
  });
});

describe('<Narrative>', () => {
  it('renders the sanitized markup and nothing for an empty narrative', () => {
    const { container, rerender } = render(<Narrative html={'<div><p onclick="x()">Hello <b>there</b></p><script>x()</script></div>'} />);
    expect(container.querySelector('.narrative b')?.textContent).toBe('there');
    expect(container.innerHTML).not.toMatch(/onclick|script/);
    rerender(<Narrative html={undefined} />);
    expect(container.innerHTML).toBe('');
  });
});
