import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintKey } from '../../src/credentials/key-format.js';
import { createHarness, type Harness, storeKinds } from './harness.js';

describe.each(storeKinds)('audit log (%s)', (kind) => {
  let h: Harness;
  let orgId: string;

  beforeEach(async () => {
    h = await createHarness(kind);
    orgId = (await h.credentials.createOrganization('Acme', { actor: 'cli:test' })).orgId;
  });

  afterEach(async () => {
    await h.dispose();
  });

  it('takes actions later issues define, with key id and detail', async () => {
    const id = await h.credentials.audit({
      orgId,
      actor: 'user:alice@example.com',
      action: 'bundle.downloaded',
      keyId: 'apo_abcdefghijkl',
      detail: { kind: 'java', version: '1.2.3' },
    });
    const [entry] = (await h.credentials.listAudit(orgId, { limit: 1 })).entries;
    expect(entry).toEqual({
      id,
      at: new Date(h.clock).toISOString(),
      orgId,
      actor: 'user:alice@example.com',
      action: 'bundle.downloaded',
      keyId: 'apo_abcdefghijkl',
      detail: { kind: 'java', version: '1.2.3' },
    });
  });

  it('pages newest first until nextBefore is null', async () => {
    for (let i = 0; i < 7; i++) {
      h.clock += 1000;
      await h.credentials.audit({ orgId, actor: 'system', action: `test.${i}` });
    }
    const seen: string[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await h.credentials.listAudit(orgId, { limit: 3, before });
      seen.push(...page.entries.map((e) => e.action));
      if (page.nextBefore === null) break;
      before = page.nextBefore;
    }
    expect(seen).toEqual([
      'test.6',
      'test.5',
      'test.4',
      'test.3',
      'test.2',
      'test.1',
      'test.0',
      'org.created',
    ]);
  });

  it('refuses an entry that holds a key anywhere', async () => {
    const key = mintKey('api-key').text;
    await expect(
      h.credentials.audit({ orgId, actor: 'system', action: 'oops', detail: { note: `leaked ${key}` } }),
    ).rejects.toThrow('audit entry oops must not hold a key, only key ids');
    expect((await h.credentials.listAudit(orgId)).entries.map((e) => e.action)).toEqual(['org.created']);
  });

  it('keeps system-wide entries apart from organizations', async () => {
    await h.credentials.audit({ orgId: null, actor: 'cli:root', action: 'system.test' });
    expect((await h.credentials.listAudit(null)).entries.map((e) => e.action)).toEqual(['system.test']);
    expect((await h.credentials.listAudit(orgId)).entries.map((e) => e.action)).toEqual(['org.created']);
  });
});
