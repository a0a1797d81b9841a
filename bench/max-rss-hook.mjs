// Preloaded with `node --import` when GNU time is missing: writes the process's peak resident set
// size (KiB) to $BENCH_MAXRSS_FILE as it exits. Used by lib.mjs peakRssOfNode.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_MAXRSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, `${process.resourceUsage().maxRSS}\n`));
