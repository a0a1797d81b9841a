/** One bundle record as the cap sees it: which settings it was rendered with, and whether it can still be served. */
export interface SettingsRecord {
  readonly id: string;
  /** A canonical text of its settings (see settingsKey); '' for a record without settings. */
  readonly settings: string;
  readonly createdAt: number;
  /** False once a key version it embeds has expired: it serves nothing any more. */
  readonly alive: boolean;
}

/** The same settings always give the same text, whatever order they were sent in. */
export function settingsKey(settings: Readonly<Record<string, string>>): string {
  const entries = Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '' : JSON.stringify(entries);
}

/**
 * The records to remove so that an organization holds at most `max` distinct sets of render
 * settings once `wanted` is added (records without settings do not count). Whole sets go:
 * first those that serve nothing any more, then the set used least recently (its newest record
 * is the oldest). Empty when `wanted` is already held or there is room.
 */
export function settingsToCollect(records: readonly SettingsRecord[], wanted: string, max: number): string[] {
  const sets = new Map<string, { ids: string[]; newest: number; alive: boolean }>();
  for (const record of records) {
    if (record.settings === '') continue;
    const set = sets.get(record.settings) ?? { ids: [], newest: 0, alive: false };
    set.ids.push(record.id);
    set.newest = Math.max(set.newest, record.createdAt);
    set.alive ||= record.alive;
    sets.set(record.settings, set);
  }
  if (wanted === '' || sets.has(wanted) || sets.size < max) return [];
  const order = [...sets.values()].sort((a, b) => Number(a.alive) - Number(b.alive) || a.newest - b.newest);
  return order.slice(0, sets.size - max + 1).flatMap((set) => set.ids);
}
