import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formats } from '../../src/render/formats.js';
import { defaultTemplatesDir, listKinds, loadKind } from '../../src/render/kinds.js';
import { renderConfig } from '../../src/render/render.js';
import { precompileTemplate, templateKey } from '../../src/render/template.js';
import { hostileValues, sampleValues } from './sample.js';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

interface Case {
  readonly kind: string;
  readonly dir?: string;
  readonly values: Record<string, string>;
}

interface Rendered {
  readonly text?: string;
  readonly error?: string;
}

/** Renders through dist/ (the build's precompiled templates) in a fresh process. */
async function renderBuilt(cases: readonly Case[]): Promise<{ out: Rendered[]; compilerLoaded: boolean }> {
  const kinds = join(root, 'dist/render/kinds.js');
  const script = `
    import { readFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    const { loadKind } = await import(${JSON.stringify(kinds)});
    const { renderConfig } = await import(${JSON.stringify(join(root, 'dist/render/render.js'))});
    const out = [];
    for (const c of JSON.parse(readFileSync(process.argv[1], 'utf8'))) {
      const kind = await loadKind(c.kind, c.dir);
      try { out.push({ text: renderConfig(kind, c.values).toString('utf8') }); }
      catch (error) { out.push({ error: error.message }); }
    }
    const cache = createRequire(${JSON.stringify(kinds)}).cache;
    const compilerLoaded = Object.keys(cache).some((file) => file.endsWith('handlebars.min.js'));
    process.stdout.write(JSON.stringify({ out, compilerLoaded }));
  `;
  // In a file: the very long hostile value is more than an argument may hold.
  const dir = await mkdtemp(join(tmpdir(), 'agentpack-cases-'));
  try {
    const file = join(dir, 'cases.json');
    await writeFile(file, JSON.stringify(cases));
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script, file], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout) as { out: Rendered[]; compilerLoaded: boolean };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same cases through src/, where there is no build table: compiled on first use. */
async function renderCompiled(cases: readonly Case[]): Promise<Rendered[]> {
  const out: Rendered[] = [];
  for (const c of cases) {
    const kind = await loadKind(c.kind, c.dir);
    try {
      out.push({ text: renderConfig(kind, c.values).toString('utf8') });
    } catch (error) {
      out.push({ error: (error as Error).message });
    }
  }
  return out;
}

function casesFor(kind: string, dir?: string): Case[] {
  const at = dir === undefined ? {} : { dir };
  const proxy = {
    'proxy.host': 'proxy.internal',
    'proxy.port': '3128',
    'proxy.user': 'u',
    'proxy.password': 'p=w:d',
  };
  return [
    { kind, ...at, values: { ...sampleValues } },
    { kind, ...at, values: { ...sampleValues, ...proxy, 'log.level': 'debug', 'a.b': 'c' } },
    ...hostileValues.map(([, value]) => ({
      kind,
      ...at,
      values: { ...sampleValues, 'api.user_name': value, 'proxy.password': value, 'extra.setting': value },
    })),
    // A required variable without a value.
    { kind, ...at, values: { 'api.url': 'https://x', 'api.api_key': 'k', 'api.service_key': 's' } },
  ];
}

describe('templates precompiled at build time', () => {
  const dirs: string[] = [];

  beforeAll(async () => {
    // npm test builds first; a lone vitest run rebuilds here when dist/ is older than what it is
    // built from (never otherwise: other suites run the built CLI meanwhile).
    const table = join(root, 'dist/render/precompiled.cjs');
    const sources = [
      ...['template', 'formats', 'kinds', 'render'].map((name) => join(root, 'src/render', `${name}.ts`)),
      ...(await listKinds()).flatMap((kind) => [
        kind.templateFile,
        join(defaultTemplatesDir, kind.kind, 'kind.json'),
      ]),
    ];
    const builtAt = existsSync(table) ? statSync(table).mtimeMs : 0;
    if (sources.some((file) => statSync(file).mtimeMs > builtAt)) {
      await exec('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
      await exec(process.execPath, ['scripts/precompile-templates.mjs'], { cwd: root });
    }
  }, 120_000);

  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('cover every packaged kind, found by the digest of its format and source', async () => {
    const table = (await import(join(root, 'dist/render/precompiled.cjs'))).default as Record<
      string,
      { paths: unknown }
    >;
    const kinds = await listKinds();
    expect(kinds.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(table).sort()).toEqual(
      kinds.map((kind) => templateKey(kind, formats[kind.format])).sort(),
    );
    // With each variable's place, which names a variable strict mode reports missing.
    for (const kind of kinds) {
      const { key, paths } = precompileTemplate(kind, formats[kind.format]);
      expect(table[key]?.paths).toEqual(paths);
      expect(paths.map((at) => at.path)).toContain('api.url');
    }
  });

  it.each(['java', 'node'])(
    'render %s byte for byte as the compiler does, errors included, without loading the compiler',
    async (kind) => {
      const cases = casesFor(kind);
      const built = await renderBuilt(cases);
      expect(built.compilerLoaded).toBe(false);
      expect(built.out).toEqual(await renderCompiled(cases));
      expect(built.out.at(-1)?.error).toBe(`kind ${kind}: required variable api.user_name has no value`);
      expect(built.out[0]?.text).toContain(sampleValues['api.user_name']);
    },
  );

  it('do not apply to a template edited after the build: it is compiled and its edit shows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpack-kinds-'));
    dirs.push(dir);
    await cp(join(defaultTemplatesDir, 'java'), join(dir, 'java'), { recursive: true });
    const template = join(dir, 'java', 'agentpack.properties.hbs');
    await writeFile(template, `${await readFile(template, 'utf8')}# edited after the build\n`);
    const cases = casesFor('java', dir).slice(0, 2);
    const built = await renderBuilt(cases);
    expect(built.compilerLoaded).toBe(true);
    expect(built.out).toEqual(await renderCompiled(cases));
    expect(built.out[0]?.text).toMatch(/# edited after the build\n$/);
  });
});
