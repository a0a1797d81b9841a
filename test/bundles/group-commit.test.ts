import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/bundles/group-commit.js';

describe('group commit', () => {
  it('writes rows that arrive together in one write, each caller settled when its row is written', async () => {
    const writes: number[][] = [];
    const commits = new GroupCommit<number>(async (rows) => {
      writes.push(rows);
    });
    await Promise.all([1, 2, 3].map((n) => commits.add(n)));
    expect(writes).toEqual([[1, 2, 3]]);
    await commits.add(4);
    expect(writes).toEqual([[1, 2, 3], [4]]);
  });

  it('queues rows that arrive during a write for the next one', async () => {
    const writes: number[][] = [];
    let release: () => void = () => undefined;
    const commits = new GroupCommit<number>(async (rows) => {
      writes.push(rows);
      if (writes.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    const first = commits.add(1);
    while (writes.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const later = [commits.add(2), commits.add(3)];
    release();
    await Promise.all([first, ...later]);
    expect(writes).toEqual([[1], [2, 3]]);
  });

  it('rejects only the callers of a failed write, and keeps writing after it', async () => {
    let calls = 0;
    const commits = new GroupCommit<string>(async (rows) => {
      calls++;
      if (rows.includes('bad')) throw new Error('constraint failed');
    });
    const results = await Promise.allSettled([commits.add('a'), commits.add('bad')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(commits.add('c')).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
