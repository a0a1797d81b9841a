import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/common/errors.js';
import {
  agentUserName,
  checkOrganizationName,
  checkSlug,
  normalizeEmail,
  parseAgentUserName,
  slugFromName,
} from '../../src/credentials/names.js';

describe('slugs', () => {
  it.each([
    ['Acme Corp.', 'acme-corp'],
    ['  Ünïcödé  Société ', 'unicode-societe'],
    ['A--B__C', 'a-b-c'],
    ['!!!', ''],
    ['x'.repeat(80), 'x'.repeat(48)],
  ])('derives %j -> %j', (name, slug) => {
    expect(slugFromName(name)).toBe(slug);
  });

  it.each(['', '-acme', 'acme-', 'Acme', 'a--b', 'a_b', 'x'.repeat(49)])('refuses %j', (slug) => {
    expect(() => checkSlug(slug)).toThrow(UsageError);
  });

  it('accepts a valid slug unchanged', () => {
    expect(checkSlug('acme-2')).toBe('acme-2');
  });
});

describe('organization names', () => {
  it('trims and refuses empty, long and control-character names', () => {
    expect(checkOrganizationName('  Acme ')).toBe('Acme');
    expect(() => checkOrganizationName('   ')).toThrow(
      'an organization name must have 1 to 100 characters; found 0',
    );
    expect(() => checkOrganizationName('x'.repeat(101))).toThrow(UsageError);
    expect(() => checkOrganizationName('a\nb')).toThrow(
      'an organization name must not hold control characters',
    );
  });
});

describe('e-mail addresses', () => {
  it('lower-cases a valid address', () => {
    expect(normalizeEmail(' Alice@Example.COM ')).toBe('alice@example.com');
  });

  it.each(['alice', 'alice@', '@example.com', 'a:b@example.com', 'a b@example.com', 'alice@localhost'])(
    'refuses %j with one line naming what was expected',
    (email) => {
      expect(() => normalizeEmail(email)).toThrow(
        /^expected an e-mail address like name@example.com; found '/,
      );
    },
  );
});

describe('agent user name', () => {
  it('is agent_<orgId>@<slug> and parses back', () => {
    const orgId = '0b5e3f2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
    expect(agentUserName(orgId, 'acme')).toBe(`agent_${orgId}@acme`);
    expect(parseAgentUserName(`agent_${orgId}@acme`)).toEqual({ orgId, slug: 'acme' });
  });

  it.each(['agent_x@acme', 'agent_0b5e3f2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b', 'alice@example.com', ''])(
    'refuses %j',
    (name) => {
      expect(parseAgentUserName(name)).toBeNull();
    },
  );
});
