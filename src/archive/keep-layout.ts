/**
 * V8 drops a class's object layouts (its maps) at a full GC once no instance of the class is left,
 * and with them the machine code it optimized for those layouts. The next archive would then be
 * checked by cold code while the compiler runs again: for 30,000 entries, tens of milliseconds of
 * CPU that compete with hashing and copying. Keeping the latest instance of each class that the
 * per-entry loops touch avoids it, for the memory of one archive's directory.
 *
 * bench: "(a) agentpack writeBundle + render + sign, in-process" and "info: prepareBase" (bundle
 * section, a GC before each sample, as between two uploads to a server): about 1.4x slower without
 * it (two runs each, alternated). A one-shot `agentpack pack` process gains nothing from it.
 */
const latest = new Map<unknown, object>();

export function keepLayout(instance: object): void {
  latest.set(instance.constructor, instance);
}
