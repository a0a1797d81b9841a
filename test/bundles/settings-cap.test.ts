import { describe, expect, it } from 'vitest';
import { settingsKey, settingsToCollect } from '../../src/bundles/settings-cap.js';

const record = (id: string, settings: string, createdAt: number, alive = true) => ({
  id,
  settings,
  createdAt,
  alive,
});

describe('settingsToCollect', () => {
  it('leaves room alone, and never counts records without settings', () => {
    const records = [record('a', 'x', 1), record('b', '', 2), record('c', '', 3)];
    expect(settingsToCollect(records, 'y', 2)).toEqual([]);
    expect(settingsToCollect(records, 'x', 1)).toEqual([]);
  });

  it('collects whole sets that serve nothing first, then the least recently built', () => {
    const records = [
      record('old-1', 'old', 1),
      record('old-2', 'old', 9),
      record('mid', 'mid', 5),
      record('dead', 'dead', 8, false),
    ];
    expect(settingsToCollect(records, 'new', 3)).toEqual(['dead']);
    expect(settingsToCollect(records, 'new', 2)).toEqual(['dead', 'mid']);
  });

  it('names the same settings the same way in any order', () => {
    expect(settingsKey({ b: '1', a: '2' })).toBe(settingsKey({ a: '2', b: '1' }));
    expect(settingsKey({})).toBe('');
  });
});
