import { createRequire } from 'node:module';
import { escapePropertiesKey, escapePropertiesValue, quoteYamlString } from './escape.js';
import type { ConfigFormat } from './manifest.js';

// Handlebars is CommonJS typed with `export =`; with esModuleInterop off TypeScript refuses a
// default import of it, and Node's ESM namespace for it holds only `default`. So: require.
// The prebuilt single-file bundle: the same API without the source-map machinery, so the CLI
// starts about 150 ms sooner than with the package's main entry.
const Handlebars = createRequire(import.meta.url)(
  'handlebars/dist/handlebars.min.js',
) as typeof import('handlebars');

export type HandlebarsEnv = typeof Handlebars;

/**
 * One config file format: its escaping, and its own Handlebars environment, so nothing
 * registered or compiled for one format (helpers, partials, templates) can reach another.
 */
export interface Format {
  readonly name: ConfigFormat;
  readonly env: HandlebarsEnv;
  /** A setting's name, escaped for this format and marked safe so Handlebars leaves it alone. */
  key(name: string): Handlebars.SafeString;
  /** A value, likewise: Handlebars' HTML escaping must never touch it. */
  value(text: string): Handlebars.SafeString;
}

function defineFormat(
  name: ConfigFormat,
  escapeKey: (s: string) => string,
  escapeValue: (s: string) => string,
): Format {
  const env = Handlebars.create();
  return {
    name,
    env,
    key: (text) => new env.SafeString(escapeKey(text)),
    value: (text) => new env.SafeString(escapeValue(text)),
  };
}

export const formats: Readonly<Record<ConfigFormat, Format>> = Object.freeze({
  properties: defineFormat('properties', escapePropertiesKey, escapePropertiesValue),
  // Every YAML scalar is double-quoted, keys included, so no name or value is read as syntax.
  yaml: defineFormat('yaml', quoteYamlString, quoteYamlString),
});
