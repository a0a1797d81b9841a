import { InternalError } from '../common/errors.js';
import { targetPathProblem } from '../common/validate.js';

/**
 * The kind manifest (`templates/<kind>/kind.json`) and its validation. Pure: the caller reads
 * the file; these functions only judge its content and say precisely what is wrong.
 */

export type ArchiveType = 'jar' | 'zip';
/** The config file formats a kind may write (src/render/formats.ts). */
export const CONFIG_FORMATS = ['properties', 'yaml', 'xml', 'json', 'env'] as const;
export type ConfigFormat = (typeof CONFIG_FORMATS)[number];

export interface KindManifest {
  readonly kind: string;
  readonly description: string;
  readonly archive: ArchiveType;
  /** Where the rendered config goes inside the archive (validated: relative, no `..`). */
  readonly target: string;
  readonly format: ConfigFormat;
  /** The template's file name, inside the kind's folder. */
  readonly template: string;
  readonly variables: { readonly required: readonly string[]; readonly optional: readonly string[] };
}

/**
 * Declared variable names become Handlebars paths (`api.url` is `api` then `url`), so each
 * segment must be a plain identifier.
 */
const variableNamePattern = /^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63}){0,7}$/;
const templateFilePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\.hbs$/;

/** The render context's own top-level name for the free-form settings; no variable may use it. */
export const extraSettingsName = 'extra';

const manifestFields = ['kind', 'description', 'archive', 'target', 'format', 'template', 'variables'];
const variablesFields = ['required', 'optional'];

export class KindManifestError extends InternalError {
  constructor(message: string) {
    // A shipped manifest that does not hold up is the operator's problem, not the caller's.
    super('KIND_MANIFEST_INVALID', message);
    this.name = 'KindManifestError';
  }
}

/** Checks a parsed `kind.json`; `file` names it in messages, `folder` is the kind it must declare. */
export function parseKindManifest(json: unknown, file: string, folder: string): KindManifest {
  const fail = (message: string): never => {
    throw new KindManifestError(`${file}: ${message}`);
  };
  const object = asObject(json, 'the manifest', fail);
  rejectUnknownFields(object, manifestFields, 'the manifest', fail);
  const kind = requireString(object, 'kind', fail);
  if (kind !== folder)
    fail(`field "kind" must be ${JSON.stringify(folder)} (the folder's name), found ${describe(kind)}`);
  const target = requireString(object, 'target', fail);
  const targetProblem = targetPathProblem(target);
  if (targetProblem !== null) fail(`field "target" ${targetProblem}, found ${describe(target)}`);
  const template = requireString(object, 'template', fail);
  if (!templateFilePattern.test(template)) {
    fail(`field "template" must be a file name ending in .hbs (no folders), found ${describe(template)}`);
  }
  return {
    kind,
    description: requireString(object, 'description', fail),
    archive: requireOneOf(object, 'archive', ['jar', 'zip'] as const, fail),
    target,
    format: requireOneOf(object, 'format', CONFIG_FORMATS, fail),
    template,
    variables: parseVariables(object.variables, fail),
  };
}

type Fail = (message: string) => never;
type JsonObject = Record<string, unknown>;

function parseVariables(json: unknown, fail: Fail): KindManifest['variables'] {
  const object = asObject(json, 'field "variables"', fail);
  rejectUnknownFields(object, variablesFields, 'field "variables"', fail);
  const required = requireNameList(object, 'required', fail);
  const optional = requireNameList(object, 'optional', fail);
  checkNamesFitTogether([...required, ...optional], fail);
  return { required, optional };
}

function requireNameList(object: JsonObject, field: string, fail: Fail): string[] {
  const list = object[field];
  const where = `field "variables.${field}"`;
  if (!Array.isArray(list)) fail(`${where} must be an array of variable names, found ${describe(list)}`);
  return (list as unknown[]).map((name, index) => {
    if (typeof name !== 'string' || !variableNamePattern.test(name)) {
      fail(`${where}[${index}] must be a name like "api.url" (lower-case, dotted), found ${describe(name)}`);
    }
    return name as string;
  });
}

/** Names become nested objects, so `api` and `api.url` cannot both exist, nor one name twice. */
function checkNamesFitTogether(names: string[], fail: Fail): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) fail(`variable "${name}" is declared twice`);
    if (name.split('.')[0] === extraSettingsName) {
      fail(`variable "${name}" uses the reserved name "${extraSettingsName}" (it holds the extra settings)`);
    }
    seen.add(name);
  }
  for (const name of names) {
    const other = names.find((candidate) => candidate.startsWith(`${name}.`));
    if (other !== undefined) fail(`variable "${name}" cannot be both a value and the group of "${other}"`);
  }
}

function asObject(json: unknown, what: string, fail: Fail): JsonObject {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    fail(`${what} must be a JSON object, found ${describe(json)}`);
  }
  return json as JsonObject;
}

function rejectUnknownFields(object: JsonObject, known: string[], what: string, fail: Fail): void {
  const unknown = Object.keys(object).find((field) => !known.includes(field));
  if (unknown !== undefined) {
    fail(`${what} has an unknown field ${JSON.stringify(unknown)} (expected only ${known.join(', ')})`);
  }
}

function requireString(object: JsonObject, field: string, fail: Fail): string {
  const value = object[field];
  if (typeof value !== 'string' || value.length === 0) {
    fail(`field "${field}" must be a non-empty string, found ${describe(value)}`);
  }
  return value as string;
}

function requireOneOf<T extends string>(
  object: JsonObject,
  field: string,
  allowed: readonly T[],
  fail: Fail,
): T {
  const value = object[field];
  if (!allowed.includes(value as T)) {
    const expected = allowed.map((option) => JSON.stringify(option)).join(' or ');
    fail(`field "${field}" must be ${expected}, found ${describe(value)}`);
  }
  return value as T;
}

/** How a JSON value appears in a message: its type, and strings quoted and cut short. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
