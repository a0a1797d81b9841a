import { createRequire } from 'node:module';
import {
  envKey,
  envValue,
  escapePropertiesKey,
  escapePropertiesValue,
  escapeXml,
  quoteJsonString,
  quoteYamlString,
} from './escape.js';
import type { ConfigFormat } from './manifest.js';

// Handlebars is CommonJS typed with `export =`; with esModuleInterop off TypeScript refuses a
// default import of it, and Node's ESM namespace for it holds only `default`. So: require.
// The prebuilt single-file bundles, without the source-map machinery of the package's main entry.
// Rendering needs only the runtime: the packaged templates are compiled at build time
// (template.ts); the compiler is loaded for any other template, on first use.
const require = createRequire(import.meta.url);
const Runtime = require('handlebars/dist/handlebars.runtime.min.js') as typeof import('handlebars');

export type HandlebarsEnv = typeof Runtime;

/**
 * One config file format: its escaping, and its own Handlebars environment, so nothing
 * registered or compiled for one format (helpers, partials, templates) can reach another.
 */
export interface Format {
  readonly name: ConfigFormat;
  /** Runs compiled templates (`template(spec)`); holds no compiler. */
  readonly env: HandlebarsEnv;
  /** This format's environment with the compiler, created on first use. */
  compiler(): HandlebarsEnv;
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
  const env = Runtime.create();
  let compiler: HandlebarsEnv | undefined;
  return {
    name,
    env,
    compiler: () => {
      compiler ??= (require('handlebars/dist/handlebars.min.js') as HandlebarsEnv).create();
      return compiler;
    },
    key: (text) => new env.SafeString(escapeKey(text)),
    value: (text) => new env.SafeString(escapeValue(text)),
  };
}

export const formats: Readonly<Record<ConfigFormat, Format>> = Object.freeze({
  properties: defineFormat('properties', escapePropertiesKey, escapePropertiesValue),
  // Every YAML scalar is double-quoted, keys included, so no name or value is read as syntax.
  yaml: defineFormat('yaml', quoteYamlString, quoteYamlString),
  // Element text and attribute values alike; names in XML come from the template, not from values.
  xml: defineFormat('xml', escapeXml, escapeXml),
  // Quoted string literals; the rendered file is parsed once more to prove it is JSON (render.ts).
  json: defineFormat('json', quoteJsonString, quoteJsonString),
  env: defineFormat('env', envKey, envValue),
});
