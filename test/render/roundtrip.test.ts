import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { escapePropertiesKey, escapePropertiesValue } from '../../src/render/escape.js';
import { type AgentKind, loadKind } from '../../src/render/kinds.js';
import { renderConfig } from '../../src/render/render.js';
import { readWithJava } from './java-properties.js';
import { hostileValues, sampleValues } from './sample.js';

/**
 * Hostile values go in, a real parser reads the file back, and must find exactly the input:
 * Java's own Properties for the java kind, the `yaml` library (YAML 1.2 and 1.1 rules) and the
 * node fixture agent's own reader for the node kind.
 */

const declared = [
  'api.url',
  'api.api_key',
  'api.service_key',
  'api.user_name',
  'proxy.host',
  'proxy.port',
  'proxy.user',
  'proxy.password',
];

/** Every declared variable and two extra settings hold the hostile value. */
function hostileInput(value: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of [...declared, 'log.level', 'Custom_Setting-1']) values[name] = value;
  return values;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-render-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the java kind, read back by java.util.Properties', () => {
  it('reads every hostile value back exactly', async () => {
    const kind = await loadKind('java');
    const files = await writeConfigs(
      kind,
      hostileValues.map(([, value]) => hostileInput(value)),
    );
    const parsed = await readWithJava(dir, files);
    hostileValues.forEach(([label, value], index) => {
      expect(parsed[index], label).toEqual(hostileInput(value));
    });
  });

  it('reads keys full of syntax characters back exactly when written by the escapers', async () => {
    const keys = [' lead', 'a b', 'k=v', 'k:v', '#k', '!k', 'back\\slash', 'tab\tnew\nline', 'ü😀', 'trail '];
    const text = keys
      .map((key, i) => `${escapePropertiesKey(key)}=${escapePropertiesValue(`v${i} `)}\n`)
      .join('');
    const file = join(dir, 'keys.properties');
    await writeFile(file, text);
    const [parsed] = await readWithJava(dir, [file]);
    expect(parsed).toEqual(Object.fromEntries(keys.map((key, i) => [key, `v${i} `])));
  });

  it('writes pure ASCII, so ISO-8859-1 and UTF-8 readers agree', async () => {
    const kind = await loadKind('java');
    for (const [label, value] of hostileValues) {
      expect(
        [...renderConfig(kind, hostileInput(value))].every((byte) => byte < 0x80),
        label,
      ).toBe(true);
    }
  });
});

describe('the node kind, read back by YAML parsers', () => {
  it('reads every hostile value back exactly under YAML 1.2 and 1.1 rules', async () => {
    const kind = await loadKind('node');
    for (const [label, value] of hostileValues) {
      const text = renderConfig(kind, hostileInput(value)).toString('utf8');
      for (const version of ['1.2', '1.1'] as const) {
        expect(parseYaml(text, { version }), `${label} (YAML ${version})`).toEqual(nestedExpectation(value));
      }
    }
  });

  it("reads every hostile value back exactly with the node fixture agent's own reader", async () => {
    const require = createRequire(import.meta.url);
    const { parseYaml: parseLite } = require('../../fixtures/node-agent/node-agent/lib/yaml-lite.js') as {
      parseYaml: (text: string) => Record<string, string>;
    };
    const kind = await loadKind('node');
    for (const [label, value] of hostileValues) {
      const parsed = parseLite(renderConfig(kind, hostileInput(value)).toString('utf8'));
      expect({ ...parsed }, label).toEqual(hostileInput(value));
    }
  });
});

function nestedExpectation(value: string): Record<string, unknown> {
  return {
    api: { url: value, api_key: value, service_key: value, user_name: value },
    proxy: { host: value, port: value, user: value, password: value },
    'log.level': value,
    'Custom_Setting-1': value,
  };
}

async function writeConfigs(kind: AgentKind, inputs: Array<Record<string, string>>): Promise<string[]> {
  return Promise.all(
    inputs.map(async (values, index) => {
      const file = join(dir, `config-${index}.properties`);
      await writeFile(file, renderConfig(kind, values));
      return file;
    }),
  );
}

describe('a typical config', () => {
  it('reads back as the sample values with no proxy section when no proxy is set', async () => {
    const kind = await loadKind('node');
    const text = renderConfig(kind, { ...sampleValues }).toString('utf8');
    expect(parseYaml(text)).toEqual({
      api: {
        url: sampleValues['api.url'],
        api_key: sampleValues['api.api_key'],
        service_key: sampleValues['api.service_key'],
        user_name: sampleValues['api.user_name'],
      },
    });
  });
});
