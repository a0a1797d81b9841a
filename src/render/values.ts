import { type AgentpackError, BadRequestError, UsageError } from '../common/errors.js';
import { settingNamePattern } from '../common/validate.js';
import type { KindManifest } from './manifest.js';

/**
 * The values a config is rendered from: flat dotted names (`api.url`) as the CLI's `--set` and
 * the service supply them. Names the kind declares fill its variables; any other name is a
 * free-form extra setting. Messages name the setting, never its value (it may be a secret).
 */

/** What may go into a config file as an extra setting's name. */

export interface SortedValues {
  /** The kind's declared variables that have a value. */
  readonly declared: ReadonlyMap<string, string>;
  /** Extra settings, sorted by name so the output never depends on insertion order. */
  readonly extra: ReadonlyArray<readonly [name: string, value: string]>;
}

/** Validates the values and splits them into declared variables and extra settings. */
export function sortValues(manifest: KindManifest, values: unknown): SortedValues {
  const entries = valueEntries(manifest, values);
  const declaredNames = new Set([...manifest.variables.required, ...manifest.variables.optional]);
  const declared = new Map<string, string>();
  const extra: Array<[string, string]> = [];
  for (const [name, value] of entries) {
    if (declaredNames.has(name)) declared.set(name, value);
    else extra.push([checkExtraName(manifest, declaredNames, name), value]);
  }
  extra.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  checkRequired(manifest, declared);
  return { declared, extra };
}

function valueEntries(manifest: KindManifest, values: unknown): Array<[string, string]> {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw invalid(`kind ${manifest.kind}: config values must be an object of name -> string`);
  }
  return Object.entries(values).map(([name, value]) => [name, checkValue(manifest, name, value)]);
}

function checkValue(manifest: KindManifest, name: string, value: unknown): string {
  const where = `kind ${manifest.kind}: value of ${displaySetting(name)}`;
  if (typeof value !== 'string') throw invalid(`${where} must be a string, found ${typeName(value)}`);
  if (value.includes('\0')) throw invalid(`${where} contains a NUL character`);
  // A lone surrogate cannot be written as UTF-8; it would silently become U+FFFD.
  if (/\p{Surrogate}/u.test(value)) throw invalid(`${where} is not well-formed Unicode (a lone surrogate)`);
  return value;
}

function checkExtraName(manifest: KindManifest, declared: ReadonlySet<string>, name: string): string {
  if (!settingNamePattern.test(name)) {
    throw invalid(
      `kind ${manifest.kind}: setting name ${displaySetting(name)} must be 1 to 128 of A-Z a-z 0-9 _ . -`,
    );
  }
  // `api` or `api.url.x` next to `api.url` would be the same key, or a duplicate one, in a
  // nested format such as YAML; refusing them keeps every format unambiguous.
  for (const variable of declared) {
    if (variable.startsWith(`${name}.`) || name.startsWith(`${variable}.`)) {
      throw invalid(
        `kind ${manifest.kind}: setting ${displaySetting(name)} clashes with variable ${variable}`,
      );
    }
  }
  return name;
}

function checkRequired(manifest: KindManifest, declared: ReadonlyMap<string, string>): void {
  const missing = manifest.variables.required.filter((name) => !declared.has(name));
  if (missing.length === 0) return;
  const what = missing.length === 1 ? `variable ${missing[0]} has` : `variables ${missing.join(', ')} have`;
  throw new BadRequestError('TEMPLATE_VARIABLE_MISSING', `kind ${manifest.kind}: required ${what} no value`);
}

/**
 * Splits the CLI's `--set name=value` options at the first `=` (values may hold `=`). A name
 * given twice is an error rather than last-one-wins, so a typo cannot silently drop a value.
 */
export function parseSetOptions(list: readonly string[]): Record<string, string> {
  // No prototype: a setting named `__proto__` stays an ordinary setting.
  const values: Record<string, string> = Object.create(null);
  list.forEach((item, index) => {
    const split = item.indexOf('=');
    // The item is not echoed: without its `=`, it may be a secret typed in the wrong place.
    if (split === -1) throw new UsageError(`--set #${index + 1} must look like name=value (no "=" found)`);
    const name = item.slice(0, split);
    if (name.length === 0)
      throw new UsageError(`--set #${index + 1} has an empty name (expected name=value)`);
    if (Object.hasOwn(values, name))
      throw new UsageError(`--set ${displaySetting(name)} is given more than once`);
    values[name] = item.slice(split + 1);
  });
  return values;
}

/** A setting name as shown in messages: as-is when well-formed, else quoted and cut short. */
function displaySetting(name: string): string {
  return settingNamePattern.test(name)
    ? name
    : JSON.stringify(name.length > 40 ? `${name.slice(0, 37)}...` : name);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function invalid(message: string): AgentpackError {
  return new BadRequestError('CONFIG_VALUE_INVALID', message);
}
