import { BadRequestError, InternalError } from '../common/errors.js';
import { UnwritableValue } from './escape.js';
import { type Format, formats } from './formats.js';
import type { AgentKind } from './kinds.js';
import { extraSettingsName } from './manifest.js';
import { compiledTemplate, contextObject } from './template.js';
import { type SortedValues, sortValues } from './values.js';

export { parseSetOptions } from './values.js';

/**
 * Renders a kind's config file from flat dotted values (`api.url`, `proxy.host`, `log.level`).
 * Names the kind declares fill its variables; any other name becomes an extra setting, written
 * in name order. Same kind and values give the same bytes; the output ends with a newline.
 *
 * Throws AgentpackError: TEMPLATE_VARIABLE_MISSING (a variable without a value, named in the
 * message), CONFIG_VALUE_INVALID (a value or name that cannot be written), KIND_TEMPLATE_INVALID.
 */
export function renderConfig(kind: AgentKind, values: Record<string, string>): Buffer {
  const format = formats[kind.format];
  const context = renderContext(sortValues(kind, values), format);
  const text = compiledTemplate(kind, format).render(context);
  if (format.name === 'json') checkJson(kind, text);
  return Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'utf8');
}

/** Values are quoted literals, but the template around them could still be broken JSON. */
function checkJson(kind: AgentKind, text: string): void {
  try {
    JSON.parse(text);
  } catch (error) {
    throw new InternalError(
      'KIND_TEMPLATE_INVALID',
      `kind ${kind.kind}: ${kind.template} does not render to valid JSON (${(error as Error).message})`,
    );
  }
}

/** A format's escaping, with a refused value reported by its setting's name (never its text). */
function escaped(name: string, write: () => Handlebars.SafeString): Handlebars.SafeString {
  try {
    return write();
  } catch (error) {
    if (!(error instanceof UnwritableValue)) throw error;
    throw new BadRequestError('CONFIG_VALUE_INVALID', `${name}: ${error.message}`);
  }
}

/**
 * The template's view of the values: `api.url` becomes `api` -> `url`, every value already
 * escaped for the format. An optional group with nothing set (`proxy`) is left out entirely, so
 * `{{#with proxy}}` skips it and an unguarded `{{proxy.host}}` fails in strict mode instead of
 * printing an empty string. Extra settings are a list of `{key, value}`, already in order.
 */
function renderContext(values: SortedValues, format: Format): object {
  const context = group('the whole context');
  for (const [name, value] of values.declared) {
    setPath(
      context,
      name.split('.'),
      escaped(name, () => format.value(value)),
    );
  }
  const extra = values.extra.map(([name, value]) => {
    const setting = group(`the setting ${name}`);
    setting.key = escaped(name, () => format.key(name));
    setting.value = escaped(name, () => format.value(value));
    return setting;
  });
  context[extraSettingsName] = contextObject(extra, 'the list of extra settings');
  return context;
}

function setPath(target: Record<string, unknown>, segments: string[], value: unknown, prefix = ''): void {
  const [head, ...rest] = segments as [string, ...string[]];
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  // The manifest check guarantees a name is never both a value and a group, so this is an object.
  target[head] ??= group(`the group ${prefix}${head}`);
  setPath(target[head] as Record<string, unknown>, rest, value, `${prefix}${head}.`);
}

function group(label: string): Record<string, unknown> {
  return contextObject(Object.create(null) as Record<string, unknown>, label);
}
