import { UsageError } from '../common/errors.js';

export interface ParsedArgs {
  readonly positionals: string[];
  /** Last value of each option; flags without a value hold `true`. */
  readonly options: Map<string, string | true>;
  /** Every value of options that may repeat (`--set a=b --set c=d`). */
  readonly repeated: Map<string, string[]>;
}

export interface ArgSpec {
  /** Options that take a value. */
  readonly values?: readonly string[];
  /** Options that are plain flags. */
  readonly flags?: readonly string[];
  /** Value options that may be given more than once. */
  readonly repeatable?: readonly string[];
}

/** A small strict parser: unknown options are an error, never silently ignored. */
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const flags = new Set(spec.flags ?? []);
  const repeatable = new Set(spec.repeatable ?? []);
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  const repeated = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/^--?/, '');
    if (flags.has(name)) {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
      options.set(name, true);
      continue;
    }
    if (!values.has(name) && !repeatable.has(name))
      throw new UsageError(`unknown option ${arg.slice(0, eq >= 0 ? eq : undefined)}`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    if (repeatable.has(name)) {
      const list = repeated.get(name) ?? [];
      list.push(value);
      repeated.set(name, list);
    }
    options.set(name, value);
  }
  return { positionals, options, repeated };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.options.get(name);
  return typeof value === 'string' ? value : undefined;
}

export function requireOption(args: ParsedArgs, name: string): string {
  const value = stringOption(args, name);
  if (value === undefined || value === '') throw new UsageError(`missing required option --${name}`);
  return value;
}
