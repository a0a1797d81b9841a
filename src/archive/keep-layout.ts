/**
 * V8 drops a class's object layouts (its maps) at a full GC once no instance of the class is left,
 * and with them the machine code it optimized for those layouts. The next archive would then be
 * checked by cold code while the compiler runs again: for 30,000 entries, tens of milliseconds of
 * CPU that compete with hashing and copying. Keeping the latest instance of each class that the
 * per-entry loops touch avoids it, for the memory of one archive's directory.
 */
const latest = new Map<unknown, object>();

export function keepLayout(instance: object): void {
  latest.set(instance.constructor, instance);
}
