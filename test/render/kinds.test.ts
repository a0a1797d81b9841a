import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/common/errors.js';
import { targetPathProblem } from '../../src/common/validate.js';
import { defaultTemplatesDir, listKinds, loadKind } from '../../src/render/kinds.js';
import { manifestFor, writeKind } from './temp-kinds.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpack-kinds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the shipped kinds', () => {
  it('are found in the package templates folder', () => {
    expect(defaultTemplatesDir).toBe(join(import.meta.dirname, '..', '..', 'templates/'));
  });

  it('are java (a JAR with agentpack.properties at its root) and node (a zip with a YAML file)', async () => {
    const kinds = await listKinds();
    expect(kinds.map(({ kind, archive, target, format }) => ({ kind, archive, target, format }))).toEqual([
      { kind: 'java', archive: 'jar', target: 'agentpack.properties', format: 'properties' },
      { kind: 'node', archive: 'zip', target: 'node-agent/agentpack.yaml', format: 'yaml' },
    ]);
  });

  it('declare the shared variable names', async () => {
    for (const kind of await listKinds()) {
      expect(kind.variables).toEqual({
        required: ['api.url', 'api.api_key', 'api.service_key', 'api.user_name'],
        optional: ['proxy.host', 'proxy.port', 'proxy.user', 'proxy.password'],
      });
    }
  });

  it('are loaded once and then served from memory', async () => {
    expect(await loadKind('java')).toBe(await loadKind('java'));
  });
});

describe('kind names', () => {
  // The folder does not exist: a name that got past validation would fail differently.
  const nowhere = join(tmpdir(), 'agentpack-no-such-templates-dir');

  it.each([
    '',
    'Java',
    '1java',
    '-java',
    'java/x',
    '../etc',
    '..',
    'ja va',
    'java\0',
    'a'.repeat(33),
    'jävä',
  ])('refuses %j before touching the file system', async (name) => {
    await expect(loadKind(name, nowhere)).rejects.toMatchObject({
      code: 'KIND_NAME_INVALID',
      status: 400,
      message: expect.stringMatching(/^agent kind must be 1 to 32 characters/),
    });
  });

  it('accepts the longest allowed name', async () => {
    await expect(loadKind('a'.repeat(32), nowhere)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('answers an unknown kind with not found, naming the known ones', async () => {
    await writeKind(dir, 'known', manifestFor('known'));
    await expect(loadKind('other', dir)).rejects.toThrowError(
      new NotFoundError('unknown agent kind "other" (known: known)'),
    );
  });
});

describe('kind manifest validation', () => {
  const broken: Array<[string, Record<string, unknown> | string, string]> = [
    ['not JSON', '{"kind": ', 'not valid JSON'],
    ['an array', '[]', 'the manifest must be a JSON object, found an array'],
    ['an unknown field', { ...manifestFor('k'), optinal: [] }, 'the manifest has an unknown field "optinal"'],
    [
      'another kind',
      { ...manifestFor('k'), kind: 'j' },
      `field "kind" must be "k" (the folder's name), found "j"`,
    ],
    [
      'no description',
      { ...manifestFor('k'), description: undefined },
      'field "description" must be a non-empty string, found nothing',
    ],
    [
      'a bad archive',
      { ...manifestFor('k'), archive: 'tar' },
      'field "archive" must be "jar" or "zip", found "tar"',
    ],
    [
      'a bad format',
      { ...manifestFor('k'), format: 'toml' },
      'field "format" must be "properties" or "yaml" or "xml" or "json" or "env", found "toml"',
    ],
    [
      'a numeric format',
      { ...manifestFor('k'), format: 1 },
      'field "format" must be "properties" or "yaml" or "xml" or "json" or "env", found number 1',
    ],
    [
      'a parent target',
      { ...manifestFor('k'), target: '../evil.properties' },
      'field "target" must not contain a ".." segment',
    ],
    [
      'a nested parent target',
      { ...manifestFor('k'), target: 'a/../../b' },
      'field "target" must not contain a ".." segment',
    ],
    [
      'an absolute target',
      { ...manifestFor('k'), target: '/etc/x' },
      'field "target" must be relative (no leading "/")',
    ],
    [
      'a drive target',
      { ...manifestFor('k'), target: 'C:/x' },
      'field "target" must be relative (no drive letter)',
    ],
    [
      'a backslash target',
      { ...manifestFor('k'), target: 'a\\b' },
      'field "target" must not contain a backslash',
    ],
    [
      'a folder target',
      { ...manifestFor('k'), target: 'conf/' },
      'field "target" must name a file, not a folder',
    ],
    [
      'an empty segment',
      { ...manifestFor('k'), target: 'a//b' },
      'field "target" must not contain "." or empty segments',
    ],
    [
      'a dot segment',
      { ...manifestFor('k'), target: './a' },
      'field "target" must not contain "." or empty segments',
    ],
    [
      'a control character',
      { ...manifestFor('k'), target: 'a\nb' },
      'field "target" must not contain control characters',
    ],
    [
      'an empty target',
      { ...manifestFor('k'), target: '' },
      'field "target" must be a non-empty string, found ""',
    ],
    [
      'a template path',
      { ...manifestFor('k'), template: '../x.hbs' },
      'field "template" must be a file name ending in .hbs',
    ],
    [
      'a template of another type',
      { ...manifestFor('k'), template: 'x.txt' },
      'field "template" must be a file name ending in .hbs',
    ],
    [
      'a missing template',
      { ...manifestFor('k'), template: 'gone.hbs' },
      'gone.hbs, which cannot be read (ENOENT)',
    ],
    [
      'no variables',
      { ...manifestFor('k'), variables: undefined },
      'field "variables" must be a JSON object, found nothing',
    ],
    [
      'a variables typo',
      { ...manifestFor('k'), variables: { required: [], optinal: [] } },
      'field "variables" has an unknown field "optinal"',
    ],
    [
      'required not a list',
      { ...manifestFor('k'), variables: { required: 'api.url', optional: [] } },
      'field "variables.required" must be an array of variable names, found "api.url"',
    ],
    [
      'an upper-case name',
      { ...manifestFor('k'), variables: { required: ['API.url'], optional: [] } },
      'field "variables.required"[0] must be a name like "api.url" (lower-case, dotted), found "API.url"',
    ],
    [
      'a name with a dash',
      { ...manifestFor('k'), variables: { required: [], optional: ['a', 'proxy-host'] } },
      'field "variables.optional"[1] must be a name like "api.url"',
    ],
    [
      'a name twice',
      { ...manifestFor('k'), variables: { required: ['a.b'], optional: ['a.b'] } },
      'variable "a.b" is declared twice',
    ],
    [
      'the reserved name',
      { ...manifestFor('k'), variables: { required: ['extra.x'], optional: [] } },
      'variable "extra.x" uses the reserved name "extra"',
    ],
    [
      'a value and a group',
      { ...manifestFor('k'), variables: { required: ['api', 'api.url'], optional: [] } },
      'variable "api" cannot be both a value and the group of "api.url"',
    ],
  ];

  it.each(broken)(
    'refuses a manifest with %s, naming the file and the field',
    async (_label, manifest, message) => {
      const own = await mkdtemp(join(dir, 'case-'));
      const file = await writeKind(own, 'k', manifest);
      const error = await loadKind('k', own).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'KIND_MANIFEST_INVALID', status: 500 });
      expect((error as Error).message.startsWith(`${file}: `)).toBe(true);
      expect((error as Error).message).toContain(message);
    },
  );

  it('lists nothing when one kind in the folder is broken, rather than hiding it', async () => {
    const own = await mkdtemp(join(tmpdir(), 'agentpack-kinds-list-'));
    try {
      await writeKind(own, 'good', manifestFor('good'));
      await writeKind(own, 'bad', { ...manifestFor('bad'), archive: 'rar' });
      await expect(listKinds(own)).rejects.toThrowError(/bad[/\\]kind\.json: field "archive"/);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});

describe('targetPathProblem', () => {
  it.each(['agentpack.properties', 'node-agent/agentpack.yaml', 'a/b.c/d-e_f', 'META-INF/x.properties'])(
    'accepts %j',
    (target) => {
      expect(targetPathProblem(target)).toBeNull();
    },
  );

  it('refuses a path longer than 255 characters', () => {
    expect(targetPathProblem('a'.repeat(256))).toBe('must be 1 to 255 characters long');
  });
});
