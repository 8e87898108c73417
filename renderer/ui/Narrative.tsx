/**
 * Stored markup (a resource's `text.div`) shown sanitized by DOMPurify: never trusted,
 * even though the core's validator refuses active content. Only formatting survives: no
 * scripts, event handlers, styles, forms, frames or links out of the page.
 */
import DOMPurify from 'dompurify';
import { useMemo } from 'react';

const ALLOWED_TAGS = [
  'a', 'abbr', 'b', 'big', 'blockquote', 'br', 'caption', 'cite', 'code', 'col', 'colgroup', 'dd', 'dfn', 'div', 'dl', 'dt',
  'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'kbd', 'li', 'ol', 'p', 'pre', 'q', 'samp', 'small', 'span',
  'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'tt', 'ul', 'var',
]; // prettier-ignore

export function sanitizeNarrative(html: string): string {
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ['title', 'colspan', 'rowspan', 'alt', 'href', 'src'],
    // Every other attribute's value must pass the URI check below, which numbers do not.
    ADD_URI_SAFE_ATTR: ['colspan', 'rowspan'],
    // Only in-page anchors and inline images; nothing that loads from elsewhere.
    ALLOWED_URI_REGEXP: /^(#|data:image\/(png|jpeg|gif);base64,)/i,
  });
}

export function Narrative({ html }: { html: string | undefined }) {
  const clean = useMemo(() => (html ? sanitizeNarrative(html) : ''), [html]);
  if (!clean) return null;
  return <div className="narrative" dangerouslySetInnerHTML={{ __html: clean }} />;
}
