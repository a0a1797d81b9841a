import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formats } from '../../src/render/formats.js';
import { type AgentKind, loadKind } from '../../src/render/kinds.js';
import { renderConfig } from '../../src/render/render.js';
import { hostileValues, sampleValues } from './sample.js';
import { manifestFor, writeKind } from './temp-kinds.js';

let dir: string;
let java: AgentKind;
let node: AgentKind;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-render-'));
  java = await loadKind('java');
  node = await loadKind('node');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A one-off kind in the temp folder, with its own template. */
async function kindWithTemplate(
  name: string,
  template: string,
  format: 'properties' | 'yaml' = 'properties',
) {
  await writeKind(dir, name, manifestFor(name, format), template);
  return loadKind(name, dir);
}

describe('renderConfig for the java kind', () => {
  it('writes the four api settings, and no proxy lines when no proxy is set', () => {
    expect(renderConfig(java, sampleValues).toString('utf8')).toBe(
      [
        '# agentpack configuration for this Java agent. Generated; changes are lost on the next bundle.',
        'api.url=https\\://agentpack.example.com',
        `api.api_key=${sampleValues['api.api_key']}`,
        `api.service_key=${sampleValues['api.service_key']}`,
        `api.user_name=${sampleValues['api.user_name']}`,
        '',
      ].join('\n'),
    );
  });

  it('writes only the proxy settings that are set, then the extra settings by name', () => {
    const text = renderConfig(java, {
      'zeta.last': '1',
      ...sampleValues,
      'proxy.port': '3128',
      'proxy.host': 'proxy.internal',
      'Alpha.first': '2',
    }).toString('utf8');
    expect(text.split('\n').slice(5)).toEqual([
      'proxy.host=proxy.internal',
      'proxy.port=3128',
      'Alpha.first=2',
      'zeta.last=1',
      '',
    ]);
  });
});

describe('renderConfig for the node kind', () => {
  it('writes nested YAML with every scalar double-quoted', () => {
    const text = renderConfig(node, { ...sampleValues, 'proxy.user': 'me', 'log.level': 'debug' }).toString(
      'utf8',
    );
    expect(text.split('\n').slice(1)).toEqual([
      'api:',
      '  url: "https://agentpack.example.com"',
      `  api_key: "${sampleValues['api.api_key']}"`,
      `  service_key: "${sampleValues['api.service_key']}"`,
      `  user_name: "${sampleValues['api.user_name']}"`,
      'proxy:',
      '  user: "me"',
      '"log.level": "debug"',
      '',
    ]);
  });
});

describe('strict variables', () => {
  it('refuses to render without a required variable, naming it and the kind', () => {
    const { 'api.service_key': _omitted, ...values } = sampleValues;
    expect(() => renderConfig(java, values)).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_VARIABLE_MISSING',
        message: 'kind java: required variable api.service_key has no value',
      }),
    );
  });

  it('names every missing required variable at once', () => {
    expect(() => renderConfig(node, { 'api.url': 'https://x' })).toThrowError(
      'kind node: required variables api.api_key, api.service_key, api.user_name have no value',
    );
  });

  it('fails, never prints an empty string, when a template uses a variable without a value', async () => {
    const kind = await kindWithTemplate('unguarded', 'api.url={{api.url}}\nproxy.host={{proxy.host}}\n');
    expect(() => renderConfig(kind, { 'api.url': 'https://x', 'proxy.port': '1' })).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_VARIABLE_MISSING',
        message: `kind unguarded: template ${kind.templateFile} line 2 uses {{proxy.host}}, which has no value`,
      }),
    );
  });

  it('fails when a template uses a variable its manifest does not declare', async () => {
    const kind = await kindWithTemplate('undeclared', 'a={{api.url}}\n{{#with proxy}}b={{hots}}{{/with}}\n');
    expect(() => renderConfig(kind, { 'api.url': 'x', 'proxy.host': 'h' })).toThrowError(
      /line 2 uses \{\{hots\}\}, which has no value$/,
    );
  });

  it('renders an explicitly empty value as empty: it was given, not missing', () => {
    expect(renderConfig(java, { ...sampleValues, 'proxy.password': '' }).toString('utf8')).toContain(
      '\nproxy.password=\n',
    );
  });
});

describe('values', () => {
  it.each([
    ['a number', { 'api.url': 42 }, 'kind java: value of api.url must be a string, found number'],
    ['null', { 'proxy.host': null }, 'kind java: value of proxy.host must be a string, found null'],
    ['an object', { 'log.level': { a: 1 } }, 'kind java: value of log.level must be a string, found object'],
    ['an array', { 'log.level': ['a'] }, 'kind java: value of log.level must be a string, found an array'],
    ['a NUL', { 'api.api_key': 'apo_secret\0x' }, 'kind java: value of api.api_key contains a NUL character'],
    ['a lone surrogate', { 'api.url': 'a\ud83d' }, 'kind java: value of api.url is not well-formed Unicode'],
    ['a name with a space', { 'log level': 'x' }, 'kind java: setting name "log level" must be 1 to 128 of'],
    ['a name with a slash', { 'a/b': 'x' }, 'kind java: setting name "a/b" must be 1 to 128 of'],
    ['a name with a newline', { 'a\nb=c': 'x' }, 'kind java: setting name "a\\nb=c" must be 1 to 128 of'],
    ['an empty name', { '': 'x' }, 'kind java: setting name "" must be 1 to 128 of'],
    ['a long name', { ['n'.repeat(129)]: 'x' }, `kind java: setting name "${'n'.repeat(37)}..." must be`],
    ['a group name', { api: 'x' }, 'kind java: setting api clashes with variable api.url'],
    [
      'a name below a variable',
      { 'proxy.host.name': 'x' },
      'kind java: setting proxy.host.name clashes with variable proxy.host',
    ],
  ])('refuses %s with a message naming the setting, never its value', (_label, extra, message) => {
    const error = captureError(() =>
      renderConfig(java, { ...sampleValues, ...(extra as Record<string, string>) }),
    );
    expect(error).toMatchObject({ code: 'CONFIG_VALUE_INVALID', status: 400 });
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('secret');
  });

  it('refuses values that are not an object', () => {
    expect(() => renderConfig(java, 'api.url=x' as unknown as Record<string, string>)).toThrowError(
      'kind java: config values must be an object of name -> string',
    );
  });

  it('accepts extra settings beside a declared group, such as api.timeout', () => {
    expect(renderConfig(java, { ...sampleValues, 'api.timeout': '30' }).toString('utf8')).toMatch(
      /\napi\.timeout=30\n$/,
    );
  });
});

describe('output', () => {
  it('is the same bytes for the same values, whatever their order', () => {
    const values = { ...sampleValues, 'b.x': '1', 'a.y': '2', 'proxy.host': 'h' };
    const reversed = Object.fromEntries(Object.entries(values).reverse());
    for (const kind of [java, node]) {
      const first = renderConfig(kind, values);
      expect(renderConfig(kind, values).equals(first)).toBe(true);
      expect(renderConfig(kind, reversed).equals(first)).toBe(true);
    }
  });

  it('never contains an HTML entity', () => {
    const values = { ...sampleValues, 'api.user_name': `<&>"'\`=`, 'x.y': `a&b<c>d"e'f\`g=h` };
    for (const kind of [java, node]) {
      expect(renderConfig(kind, values).toString('utf8')).not.toMatch(/&(amp|lt|gt|quot|#x27|#x60|#x3D);/);
    }
  });

  it('writes text that looks like an entity as it is, not escaped again', () => {
    const values = { ...sampleValues, 'x.y': '&amp; &#x3D;' };
    expect(renderConfig(java, values).toString('utf8')).toContain('\nx.y=&amp; &\\#x3D;\n');
    expect(renderConfig(node, values).toString('utf8')).toContain('\n"x.y": "&amp; &#x3D;"\n');
  });

  it('ends with exactly the newline the template gives, or one added when it gives none', async () => {
    const kind = await kindWithTemplate('nonewline', 'api.url={{api.url}}');
    expect(renderConfig(kind, { 'api.url': 'x' }).toString('utf8')).toBe('api.url=x\n');
    for (const [label, value] of hostileValues) {
      expect(
        renderConfig(node, { ...sampleValues, 'x.y': value })
          .toString('utf8')
          .endsWith('"\n'),
        label,
      ).toBe(true);
    }
  });

  it('is not re-evaluated: template syntax in a value comes out as text', () => {
    const text = renderConfig(node, { ...sampleValues, 'api.user_name': '{{api.api_key}}' }).toString('utf8');
    expect(text).toContain('user_name: "{{api.api_key}}"');
  });
});

describe('templates', () => {
  it.each([
    ['a triple stash', 'a={{{api.url}}}', 'line 1: {{{...}}} is not allowed'],
    ['the lookup helper', 'a={{lookup api "url"}}', 'line 1: only a plain {{name}} may output a value'],
    ['a literal', 'a={{"text"}}', 'line 1: only a plain {{name}} may output a value'],
    ['a data variable', '{{#each extra}}\n{{@index}}{{/each}}', 'line 2: {{@index}} is not allowed'],
    ['a partial', '{{> other}}', 'line 1: PartialStatement is not allowed'],
    ['an unknown block helper', '{{#custom api.url}}x{{/custom}}', 'line 1: {{#custom}} is not allowed'],
    ['a block on a literal', '{{#if "x"}}y{{/if}}', 'line 1: {{#if}} takes exactly one variable'],
    ['a hidden raw value', '{{#if api.url}}{{else}}{{{api.url}}}{{/if}}', 'line 1: {{{...}}} is not allowed'],
    ['a syntax error', 'a={{api.url}', 'Parse error on line 1'],
  ])('refuses %s, naming the kind and the template', async (_label, template, message) => {
    const name = `t${_label.replace(/[^a-z]/g, '').slice(0, 20)}`;
    const kind = await kindWithTemplate(name, template);
    const error = captureError(() => renderConfig(kind, { 'api.url': 'x' }));
    expect(error).toMatchObject({ code: 'KIND_TEMPLATE_INVALID', status: 500 });
    expect((error as Error).message).toContain(`kind ${name}: template ${kind.templateFile}`);
    expect((error as Error).message).toContain(message);
  });

  it('are compiled once per kind', async () => {
    const kind = await kindWithTemplate('once', 'a={{api.url}}\n');
    const compile = vi.spyOn(formats.properties.compiler(), 'compile');
    try {
      renderConfig(kind, { 'api.url': '1' });
      renderConfig(kind, { 'api.url': '2' });
      expect(compile).toHaveBeenCalledTimes(1);
    } finally {
      compile.mockRestore();
    }
  });

  it('are compiled in a Handlebars environment of their own format', async () => {
    const kind = await kindWithTemplate('yamlenv', 'a: {{api.url}}\n', 'yaml');
    const yamlCompile = vi.spyOn(formats.yaml.compiler(), 'compile');
    const propertiesCompile = vi.spyOn(formats.properties.compiler(), 'compile');
    try {
      expect(renderConfig(kind, { 'api.url': 'x:y' }).toString('utf8')).toBe('a: "x:y"\n');
      expect(yamlCompile).toHaveBeenCalledTimes(1);
      expect(propertiesCompile).not.toHaveBeenCalled();
      expect(formats.yaml.env).not.toBe(formats.properties.env);
    } finally {
      yamlCompile.mockRestore();
      propertiesCompile.mockRestore();
    }
  });

  it.each([
    ['{{api}}', 'the group api'],
    ['{{this}}', 'the whole context'],
    ['{{extra}}', 'the list of extra settings'],
    ['{{#each extra}}{{this}}{{/each}}', 'the setting z.z'],
  ])('refuse to print %s, which is not a single value', async (template, label) => {
    const kind = await kindWithTemplate(`group${label.length}`, `${template}\n`);
    expect(() => renderConfig(kind, { 'api.url': 'x', 'z.z': 'y' })).toThrowError(
      expect.objectContaining({
        code: 'TEMPLATE_FAILED',
        message: `kind group${label.length}: template ${kind.templateFile} prints ${label} where a single value belongs`,
      }),
    );
  });

  it('report an optional group used without a guard as a template fault', async () => {
    const kind = await kindWithTemplate('noguard', '{{#if proxy.host}}x{{/if}}\n');
    expect(() => renderConfig(kind, { 'api.url': 'x' })).toThrowError(
      expect.objectContaining({ code: 'TEMPLATE_FAILED', status: 500 }),
    );
  });
});

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}
