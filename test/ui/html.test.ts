import { describe, expect, it } from 'vitest';
import { escapeHtml, html, jsonData } from '../../src/ui/html.js';

describe('html', () => {
  it('escapes every interpolated text, so a value can never become markup', () => {
    const name = `<img src=x onerror="alert(1)">'&`;
    expect(html`<p title="${name}">${name}</p>`.text).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;</p>',
    );
  });

  it('nests fragments built by html and renders arrays, dropping null, undefined and false', () => {
    const items = ['a<b', 'c'].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${items}${null}${undefined}${false}</ul>`.text).toBe(
      '<ul><li>a&lt;b</li><li>c</li></ul>',
    );
  });

  it('keeps JSON data blocks from closing their script element', () => {
    const block = jsonData('data', { text: '</script><script>alert(1)</script>' }).text;
    expect(block).not.toContain('</script><script>');
    expect(JSON.parse(block.replace(/^<script[^>]*>|<\/script>$/g, ''))).toEqual({
      text: '</script><script>alert(1)</script>',
    });
  });

  it('escapes the five characters that matter', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});
