import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  browserPatternsModule,
  entryNameProblem,
  KEY_PURPOSES,
  keyPurposeProblem,
  kindProblem,
  orgIdProblem,
  printableTextProblem,
  SETTING_NAME_PATTERN,
  settingNamePattern,
  targetPathProblem,
  VERSION_OR_LATEST_PATTERN,
  VERSION_PATTERN,
  versionProblem,
} from '../../src/common/validate.js';
import { GENERATED_PATTERNS, loadAssets } from '../../src/ui/assets.js';

const KEY = `apo_${'A'.repeat(12)}_${'b'.repeat(30)}`;

interface Case {
  readonly name: string;
  readonly check: (input: string) => string | null;
  readonly good: readonly string[];
  readonly bad: ReadonlyArray<readonly [input: string, message: string | RegExp]>;
}

const cases: Case[] = [
  {
    name: 'kindProblem',
    check: kindProblem,
    good: ['java', 'acme-xml', 'a', `a${'b'.repeat(31)}`],
    bad: [
      ['', /^agent kind must be 1 to 32 characters.*; found ""$/],
      ['Java', /found "Java"$/],
      ['1java', /found "1java"$/],
      ['../etc', /found "..\/etc"$/],
      [`a${'b'.repeat(32)}`, /found "a/],
    ],
  },
  {
    name: 'versionProblem',
    check: versionProblem,
    good: ['1.2.3', '1.0.0-rc.1', '2024_01+build', 'v1', 'x'.repeat(64)],
    bad: [
      ['latest', /\(and not 'latest'\), got "latest"$/],
      ['', /got ""$/],
      ['-1', /got "-1"$/],
      ['1/2', /got "1\/2"$/],
      ['x'.repeat(65), /^version must be 1-64 letters/],
    ],
  },
  {
    name: 'orgIdProblem',
    check: orgIdProblem,
    good: ['0b6f3c4e-9a1d-4c2b-8e7f-123456789abc'],
    bad: [
      [
        '0B6F3C4E-9A1D-4C2B-8E7F-123456789ABC',
        /^expected an organization id \(a lower-case UUID\); found '0B6F/,
      ],
      ['acme', "expected an organization id (a lower-case UUID); found 'acme'"],
      ['a\u0000b', "expected an organization id (a lower-case UUID); found 'a?b'"],
      [KEY, `expected an organization id (a lower-case UUID); found 'apo_${'A'.repeat(12)}_...'`],
    ],
  },
  {
    name: 'keyPurposeProblem',
    check: keyPurposeProblem,
    good: ['api-key', 'agent-service-key'],
    bad: [
      ['personal-service-key', "expected api-key or agent-service-key; found 'personal-service-key'"],
      [KEY, `expected api-key or agent-service-key; found 'apo_${'A'.repeat(12)}_...'`],
    ],
  },
  {
    name: 'printableTextProblem',
    check: (text) => printableTextProblem(text, 'a name', 10),
    good: ['Acme Corp.', 'Ünïcode ✓', 'x'],
    bad: [
      ['', 'a name must have 1 to 10 characters; found 0'],
      ['x'.repeat(11), 'a name must have 1 to 10 characters; found 11'],
      ['a\tb', 'a name must not hold control characters'],
      ['a\u007fb', 'a name must not hold control characters'],
    ],
  },
  {
    name: 'targetPathProblem',
    check: targetPathProblem,
    good: ['agent.properties', 'conf/agent.yml', 'META-INF/x.json'],
    bad: [
      ['', 'must be 1 to 255 characters long'],
      ['/etc/passwd', 'must be relative (no leading "/")'],
      ['C:/x', 'must be relative (no drive letter)'],
      ['a\\b', 'must not contain a backslash'],
      ['a/../b', 'must not contain a ".." segment'],
      ['a/./b', 'must not contain "." or empty segments'],
      ['conf/', 'must name a file, not a folder'],
      ['a\nb', 'must not contain control characters'],
    ],
  },
  {
    name: 'entryNameProblem',
    check: (name) => entryNameProblem(Buffer.from(name, 'utf8')),
    good: ['a', 'META-INF/MANIFEST.MF', 'dir/', 'a/..b/c..'],
    bad: [
      ['', 'has an empty name'],
      ['/abs', 'has an absolute name'],
      ['c:x', 'has an absolute name (drive letter)'],
      ['a\u0000b', 'has a NUL byte in its name'],
      ['a\\b', 'has a backslash in its name'],
      ['a/../b', "has a '..' segment in its name"],
      ['a//b', 'has an empty segment in its name'],
    ],
  },
];

for (const { name, check, good, bad } of cases) {
  describe(name, () => {
    it.each(good.map((input) => [input]))('accepts %j', (input) => {
      expect(check(input)).toBeNull();
    });
    it.each(bad.map(([input, message]) => [input, message]))(
      'refuses %j, saying what it expected',
      (input, message) => {
        const problem = check(input);
        if (typeof message === 'string') expect(problem).toBe(message);
        else expect(problem).toMatch(message);
      },
    );
  });
}

describe('the shared patterns', () => {
  it('accept latest in a download URL, and every catalog version', () => {
    const pattern = new RegExp(VERSION_OR_LATEST_PATTERN, 'u');
    expect(pattern.test('latest')).toBe(true);
    expect(pattern.test('1.2.3-rc.1')).toBe(true);
    expect(pattern.test('../x')).toBe(false);
  });

  it('compile with the flags their readers use: u for JSON Schema, v for an HTML pattern attribute', () => {
    for (const source of [VERSION_PATTERN, VERSION_OR_LATEST_PATTERN, SETTING_NAME_PATTERN]) {
      expect(() => new RegExp(source, 'u')).not.toThrow();
      expect(() => new RegExp(`^(?:${source})$`, 'v')).not.toThrow();
    }
    expect(settingNamePattern.test('proxy.host')).toBe(true);
    expect(settingNamePattern.test('a b')).toBe(false);
  });
});

describe('the browser copy', () => {
  it('is served as js/patterns.js with the server pattern text', async () => {
    const assets = await loadAssets();
    const body = assets.get(GENERATED_PATTERNS)?.body.toString('utf8');
    expect(body).toBe(browserPatternsModule());
    expect(body).toContain(`new RegExp(${JSON.stringify(VERSION_PATTERN)})`);
    expect(body).toContain(JSON.stringify(KEY_PURPOSES));
  });

  it('evaluates to the same patterns the server uses', async () => {
    const url = `data:text/javascript;base64,${Buffer.from(browserPatternsModule()).toString('base64')}`;
    const module = (await import(url)) as { VERSION_PATTERN: RegExp; KEY_PURPOSES: string[] };
    expect(module.VERSION_PATTERN.source).toBe(new RegExp(VERSION_PATTERN).source);
    expect(module.KEY_PURPOSES).toEqual([...KEY_PURPOSES]);
  });

  it('is what the UI scripts import, with no copy of their own', async () => {
    const js = join(import.meta.dirname, '../../src/ui/static/js');
    const catalog = await readFile(join(js, 'catalog.js'), 'utf8');
    const keys = await readFile(join(js, 'keys.js'), 'utf8');
    expect(catalog).toContain("from './patterns.js'");
    expect(keys).toContain("from './patterns.js'");
    expect(catalog).not.toMatch(/0-9A-Za-z/);
    expect(keys).not.toContain("'agent-service-key'");
  });
});
