import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envKey, envValue, escapeXml, quoteJsonString } from '../../src/render/escape.js';
import { loadKind } from '../../src/render/kinds.js';
import { renderConfig } from '../../src/render/render.js';
import { hostileValues, sampleValues } from './sample.js';
import { manifestFor, writeKind } from './temp-kinds.js';

const run = promisify(execFile);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-formats-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Hostile values XML 1.0 can hold: the others must be refused, not changed. */
/** The sample's four credentials are declared, so only the test's own extras are free-form. */
const apiVariables = {
  required: ['api.url', 'api.api_key', 'api.service_key', 'api.user_name'],
  optional: ['proxy.host'],
};

const xmlHolds = (value: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 refuses are the point
  !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(
    value,
  );

describe('escapeXml', () => {
  it.each([
    ['plain', 'plain'],
    ['<a href="x">&amp;</a>', '&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;'],
    ["it's", 'it&apos;s'],
    ['<!-- c --> <![CDATA[ x ]]> <?pi x?>', '&lt;!-- c --&gt; &lt;![CDATA[ x ]]&gt; &lt;?pi x?&gt;'],
    ['\t\n\r', '&#x9;&#xA;&#xD;'],
    ['ünï 😀', 'ünï 😀'],
  ])('writes %j as %j', (input, expected) => {
    expect(escapeXml(input)).toBe(expected);
  });

  it.each([
    ['a NUL', '\u0000'],
    ['an escape character', '\u001b'],
    ['U+FFFE', '\ufffe'],
    ['a lone surrogate', '\ud800'],
  ])('refuses %s, naming the code point', (_label, value) => {
    expect(() => escapeXml(`x${value}`)).toThrow(/^U\+[0-9A-F]{4} cannot be written in XML 1\.0$/);
  });
});

describe('quoteJsonString', () => {
  it('writes a JSON string literal that parses back to the same text, for every hostile value', () => {
    for (const [label, value] of hostileValues) expect(JSON.parse(quoteJsonString(value)), label).toBe(value);
  });

  it('escapes U+2028 and U+2029 and lone surrogates', () => {
    expect(quoteJsonString('\u2028\u2029\ud800')).toBe('"\\u2028\\u2029\\ud800"');
  });
});

describe('envValue and envKey', () => {
  it('passes the characters both sh and docker read literally', () => {
    const value = 'https://user@host.example:8443/path/a_b-c.d,e+f=g%20';
    expect(envValue(value)).toBe(value);
    expect(envKey('API_KEY_2')).toBe('API_KEY_2');
  });

  it.each([
    ['a space', 'a b', 'U+0020'],
    ['a quote', 'a"b', `'"'`],
    ['a dollar', '$HOME', "'$'"],
    ['a tilde', '~/x', "'~'"],
    ['a line break', 'a\nb', 'U+000A'],
    ['non-ASCII', 'é', 'U+00E9'],
  ])('refuses %s, naming the character', (_label, value, named) => {
    expect(() => envValue(value)).toThrow(`${named} cannot be written in an env file`);
  });

  it('refuses a name sh or docker would not take', () => {
    expect(() => envKey('1ABC')).toThrow(/is not an env variable name/);
    expect(() => envKey('A-B')).toThrow(/is not an env variable name/);
  });
});

describe('rendering and reading back with the parsers agents use', () => {
  const javaXml = `
import java.io.File;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public class ReadXml {
  public static void main(String[] args) throws Exception {
    var factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    StringBuilder out = new StringBuilder("[");
    for (int f = 0; f < args.length; f++) {
      Element root = factory.newDocumentBuilder().parse(new File(args[f])).getDocumentElement();
      NodeList values = root.getElementsByTagName("value");
      out.append(f == 0 ? "[" : ",[");
      for (int i = 0; i < values.getLength(); i++) {
        Element value = (Element) values.item(i);
        out.append(i == 0 ? "" : ",").append(quote(value.getAttribute("attr"))).append(',').append(quote(value.getTextContent()));
      }
      out.append(']');
    }
    System.out.print(out.append(']'));
  }

  static String quote(String text) {
    StringBuilder out = new StringBuilder("\\"");
    for (int i = 0; i < text.length(); i++) out.append(String.format("\\\\u%04x", (int) text.charAt(i)));
    return out.append('"').toString();
  }
}
`;

  it('xml: javax.xml DOM reads every value back from text and attributes; unholdable ones are refused', async () => {
    await writeKind(
      dir,
      'xml-kind',
      { ...manifestFor('xml-kind'), variables: apiVariables, target: 'agent.xml', format: 'xml' },
      '<?xml version="1.0" encoding="UTF-8"?>\n<agent>\n  <value attr="{{api.url}}">{{api.url}}</value>\n  <value attr=\'{{proxy.host}}\'>{{proxy.host}}</value>\n</agent>\n',
    );
    const kind = await loadKind('xml-kind', dir);
    const files: string[] = [];
    const expected: string[][] = [];
    for (const [index, [label, value]] of hostileValues.entries()) {
      const values = { ...sampleValues, 'api.url': value, 'proxy.host': `${value}]]>` };
      if (!xmlHolds(value)) {
        expect(() => renderConfig(kind, values), label).toThrow(/cannot be written in XML 1\.0/);
        continue;
      }
      const file = join(dir, `x${index}.xml`);
      await writeFile(file, renderConfig(kind, values));
      files.push(file);
      expected.push([value, value, `${value}]]>`, `${value}]]>`]);
    }
    const program = join(dir, 'ReadXml.java');
    await writeFile(program, javaXml);
    const { stdout } = await run('java', [program, ...files], { maxBuffer: 64 * 1024 * 1024 });
    expect(JSON.parse(stdout)).toEqual(expected);
    expect(files.length).toBeGreaterThan(10);
  });

  it('json: JSON.parse reads every value back; a template that is not JSON is refused', async () => {
    await writeKind(
      dir,
      'json-kind',
      { ...manifestFor('json-kind'), variables: apiVariables, target: 'agent.json', format: 'json' },
      '{\n  "url": {{api.url}},\n  "extra": { {{#each extra}}{{key}}: {{value}}{{#unless @last}}, {{/unless}}{{/each}} }\n}\n',
    );
    const kind = await loadKind('json-kind', dir);
    for (const [label, value] of hostileValues) {
      const parsed = JSON.parse(
        renderConfig(kind, { ...sampleValues, 'api.url': value, [`x.${'k'}`]: value }).toString('utf8'),
      );
      expect(parsed, label).toEqual({ url: value, extra: { 'x.k': value } });
    }
    await writeKind(
      dir,
      'json-bad',
      { ...manifestFor('json-bad'), variables: apiVariables, format: 'json' },
      '{"url": {{api.url}}',
    );
    const bad = await loadKind('json-bad', dir);
    expect(() => renderConfig(bad, sampleValues)).toThrow(/does not render to valid JSON/);
  });

  it('env: sh (. file) and the docker --env-file rules read the same bytes back', async () => {
    await writeKind(
      dir,
      'env-kind',
      { ...manifestFor('env-kind'), variables: apiVariables, target: 'agent.env', format: 'env' },
      'AGENT_URL={{api.url}}\nAGENT_KEY={{api.api_key}}\n{{#each extra}}{{key}}={{value}}\n{{/each}}',
    );
    const kind = await loadKind('env-kind', dir);
    const values = {
      ...sampleValues,
      'api.url': 'https://user@gw.example:8443/v1/a_b-c,d%20+e=f',
      'api.api_key': 'apo_AbCd+/==',
      LOG_LEVEL: 'debug',
    };
    const file = join(dir, 'agent.env');
    await writeFile(file, renderConfig(kind, values));
    const { stdout } = await run('sh', [
      '-c',
      '. "$1" && printf "%s\\0" "$AGENT_URL" "$AGENT_KEY" "$LOG_LEVEL"',
      'sh',
      file,
    ]);
    const expected = [values['api.url'], values['api.api_key'], 'debug'];
    expect(stdout.split('\0').slice(0, 3)).toEqual(expected);
    expect(Object.values(dockerEnvFile(renderConfig(kind, values).toString('utf8')))).toEqual(expected);
    for (const [label, value] of hostileValues) {
      if (/^[A-Za-z0-9_./:@%+,=-]*$/.test(value)) continue;
      expect(() => renderConfig(kind, { ...values, 'api.url': value }), label).toThrow(
        /^api\.url: .* cannot be written in an env file/,
      );
    }
  });
});

/**
 * docker's --env-file rules (opts/envfile.go, parseKeyValueFile): leading whitespace trimmed,
 * empty lines and lines starting with # skipped, the name is up to the first '=', the value is
 * the rest of the line, literally (no quote removal, no expansion).
 */
function dockerEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
