import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { type AgentpackError, BadRequestError, InternalError } from '../common/errors.js';
import type { Format } from './formats.js';
import type { AgentKind } from './kinds.js';

/**
 * Compiling a kind's template: checked once for constructs that would bypass format escaping,
 * compiled in strict mode in its format's environment, cached per kind. The packaged templates
 * are checked and compiled at build time (`precompileTemplate`, written to precompiled.cjs
 * beside this module in dist/), keyed by a digest of their format and source: an edited or
 * added template does not match and is compiled here, on first use.
 */

export interface CompiledTemplate {
  /** Renders; a reference to a variable without a value throws TEMPLATE_VARIABLE_MISSING. */
  render(context: object): string;
}

/** Where each `{{path}}` sits, to name the variable when strict mode reports one missing. */
export interface PathAt {
  readonly line: number;
  readonly column: number;
  readonly path: string;
}

const blockHelpers = new Set(['if', 'unless', 'each', 'with']);

/** Only the block helpers above; `lookup` and `log` could reach values around the escaping. */
const compileOptions: CompileOptions = {
  strict: true,
  knownHelpersOnly: true,
  knownHelpers: { lookup: false, log: false },
};

const cache = new WeakMap<AgentKind, CompiledTemplate>();

/** A template compiled at build time: Handlebars' template spec and the template's variables. */
export interface PrecompiledTemplate {
  readonly spec: object;
  readonly paths: readonly PathAt[];
}

/** A template as the build writes it: the spec as JavaScript source. */
export interface PrecompiledSource {
  readonly key: string;
  readonly source: string;
  readonly paths: readonly PathAt[];
}

/**
 * Part of every key, with the compile options: bump the number when the checks change, so a
 * table built before never applies.
 */
const PRECOMPILE_VERSION = `1 ${JSON.stringify(compileOptions)}`;

/** The digest a precompiled template is found by: exactly this format and source. */
export function templateKey(kind: AgentKind, format: Format): string {
  return createHash('sha256')
    .update(`${PRECOMPILE_VERSION}\0${format.name}\0${kind.templateSource}`)
    .digest('hex');
}

let precompiled: Readonly<Record<string, PrecompiledTemplate>> | undefined;

/** The build's table; empty where there is none (running from src/ under the test runner). */
function precompiledTemplates(): Readonly<Record<string, PrecompiledTemplate>> {
  if (precompiled === undefined) {
    try {
      precompiled = createRequire(import.meta.url)('./precompiled.cjs') as Record<
        string,
        PrecompiledTemplate
      >;
    } catch {
      precompiled = {};
    }
  }
  return precompiled;
}

/** For the build: the kind's template checked and compiled to a spec's JavaScript source. */
export function precompileTemplate(kind: AgentKind, format: Format): PrecompiledSource {
  const { ast, paths } = checkedTemplate(kind, format);
  // Typed as a spec object, but precompile returns the spec's JavaScript source.
  const source = format.compiler().precompile(ast, compileOptions) as unknown as string;
  return { key: templateKey(kind, format), source, paths };
}

export function compiledTemplate(kind: AgentKind, format: Format): CompiledTemplate {
  let compiled = cache.get(kind);
  if (compiled === undefined) {
    compiled = compile(kind, format);
    cache.set(kind, compiled);
  }
  return compiled;
}

function compile(kind: AgentKind, format: Format): CompiledTemplate {
  const where = `kind ${kind.kind}: template ${kind.templateFile}`;
  const built = precompiledTemplates()[templateKey(kind, format)];
  if (built !== undefined) {
    const run = format.env.template(built.spec as TemplateSpecification);
    return { render: (context) => renderOrExplain(run, context, built.paths, where) };
  }
  const { ast, paths } = checkedTemplate(kind, format, where);
  // The checked tree itself is compiled, so what runs is exactly what was checked.
  const run: (context: object) => string = format.compiler().compile(ast, compileOptions);
  return { render: (context) => renderOrExplain(run, context, paths, where) };
}

function checkedTemplate(
  kind: AgentKind,
  format: Format,
  where = `kind ${kind.kind}: template ${kind.templateFile}`,
): { ast: hbs.AST.Program; paths: PathAt[] } {
  let ast: hbs.AST.Program;
  try {
    ast = format.compiler().parse(kind.templateSource);
  } catch (error) {
    throw templateInvalid(`${where}: ${(error as Error).message}`);
  }
  const paths: PathAt[] = [];
  const problem = programProblem(ast, paths);
  if (problem !== null) throw templateInvalid(`${where} ${problem}`);
  return { ast, paths };
}

/**
 * An object for the render context. It has no prototype, so strict mode's `in` check sees only
 * our own names (never `constructor` or `toString`). Two hidden hooks keep it honest: a string
 * form for Handlebars' own "not defined in ..." message, and `toHTML`, which Handlebars calls
 * before printing an object, so that printing a whole group (`{{api}}`) fails instead of
 * writing "[object Object]" into a config.
 */
export function contextObject<T extends object>(target: T, label: string): T {
  Object.defineProperty(target, Symbol.toPrimitive, { value: () => `[${label}]` });
  Object.defineProperty(target, 'toHTML', {
    value: () => {
      throw new GroupPrinted(label);
    },
  });
  return target;
}

class GroupPrinted extends Error {
  constructor(readonly label: string) {
    super(`${label} printed as a value`);
  }
}

function renderOrExplain(
  run: (c: object) => string,
  context: object,
  paths: readonly PathAt[],
  where: string,
): string {
  try {
    return run(context);
  } catch (error) {
    const line = (error as { lineNumber?: unknown }).lineNumber;
    const column = (error as { column?: unknown }).column;
    const missing = paths.find((at) => at.line === line && at.column === column);
    if (missing !== undefined) {
      throw new BadRequestError(
        'TEMPLATE_VARIABLE_MISSING',
        `${where} line ${missing.line} uses {{${missing.path}}}, which has no value`,
      );
    }
    if (error instanceof GroupPrinted) {
      throw new InternalError(
        'TEMPLATE_FAILED',
        `${where} prints ${error.label} where a single value belongs`,
      );
    }
    // Optional groups are absent when none of their variables is set; only a template that
    // reaches into one without {{#with}} or {{#if}} gets here.
    const message = `${where} cannot be rendered: ${(error as Error).message}`;
    throw new InternalError('TEMPLATE_FAILED', message, { cause: error });
  }
}

/** The first construct that could emit text other than an escaped value, or null. */
function programProblem(program: hbs.AST.Program, paths: PathAt[]): string | null {
  for (const statement of program.body) {
    const problem = statementProblem(statement, paths);
    if (problem !== null) return problem;
  }
  return null;
}

function statementProblem(statement: hbs.AST.Statement, paths: PathAt[]): string | null {
  const line = `line ${statement.loc.start.line}`;
  switch (statement.type) {
    case 'ContentStatement':
    case 'CommentStatement':
      return null;
    case 'MustacheStatement':
      return mustacheProblem(statement as hbs.AST.MustacheStatement, paths, line);
    case 'BlockStatement':
      return blockProblem(statement as hbs.AST.BlockStatement, paths, line);
    default:
      return `${line}: ${statement.type} is not allowed (only {{name}}, {{#if}}, {{#unless}}, {{#each}}, {{#with}})`;
  }
}

function mustacheProblem(mustache: hbs.AST.MustacheStatement, paths: PathAt[], line: string): string | null {
  if (!mustache.escaped) return `${line}: {{{...}}} is not allowed: every value goes through {{name}}`;
  const path = mustache.path;
  if (path.type !== 'PathExpression' || mustache.params.length > 0 || hasHash(mustache)) {
    return `${line}: only a plain {{name}} may output a value, no helpers or literals`;
  }
  const expression = path as hbs.AST.PathExpression;
  if (expression.data) {
    return `${line}: {{${expression.original}}} is not allowed: @ variables are not escaped`;
  }
  paths.push({
    line: expression.loc.start.line,
    column: expression.loc.start.column,
    path: expression.original,
  });
  return null;
}

function blockProblem(block: hbs.AST.BlockStatement, paths: PathAt[], line: string): string | null {
  const name = block.path.original;
  if (!blockHelpers.has(name)) {
    return `${line}: {{#${name}}} is not allowed (only #if, #unless, #each, #with)`;
  }
  const [param, ...others] = block.params;
  if (param?.type !== 'PathExpression' || others.length > 0 || hasHash(block)) {
    return `${line}: {{#${name}}} takes exactly one variable`;
  }
  return (
    programProblem(block.program, paths) ?? (block.inverse ? programProblem(block.inverse, paths) : null)
  );
}

function hasHash(node: { hash?: hbs.AST.Hash }): boolean {
  return node.hash !== undefined && node.hash.pairs.length > 0;
}

function templateInvalid(message: string): AgentpackError {
  return new InternalError('KIND_TEMPLATE_INVALID', message);
}
