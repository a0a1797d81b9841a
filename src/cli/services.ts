import type { BundleLayer } from '../bundles/layer.js';
import type { AppConfig } from '../config.js';
import type { Services } from '../services.js';
import type { CliIo } from './io.js';

/** The configuration, read once from the command's environment (see config.ts). */
export async function cliConfig(io: CliIo): Promise<AppConfig> {
  const { loadConfig } = await import('../config.js');
  return loadConfig(io.env, io.cwd);
}

/** Opens the configured store (data dir or DATABASE_URL + S3) with the catalog and bundle service. */
export async function openCliServices(io: CliIo): Promise<{ services: Services; layer: BundleLayer }> {
  const config = await cliConfig(io);
  const { openServices } = await import('../services.js');
  const services = await openServices(config);
  return { services, layer: services.bundles };
}

export interface CountProgress {
  tick(): void;
  /** A message on its own line (a half-drawn bar is ended first, and redrawn after it). */
  note(message: string): void;
  done(): void;
}

/** A count progress line: redrawn in place on a terminal, plain lines every 10% elsewhere. */
export function countProgress(io: CliIo, label: string, total: number): CountProgress {
  const tty = io.stderr.isTTY === true;
  let count = 0;
  let lastDraw = 0;
  let lastDecile = -1;
  let midLine = false;
  const draw = (final: boolean) => {
    const percent = total === 0 ? 100 : Math.floor((count / total) * 100);
    if (tty) {
      const width = 24;
      const filled = Math.round((percent / 100) * width);
      io.stderr.write(
        `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${percent}%${final ? '\n' : ''}`,
      );
      midLine = !final;
    } else if (final || Math.floor(percent / 10) > lastDecile) {
      lastDecile = Math.floor(percent / 10);
      io.stderr.write(`${label}: ${count}/${total} (${percent}%)\n`);
    }
  };
  return {
    tick() {
      count++;
      const now = Date.now();
      if (!tty || now - lastDraw >= 100) {
        lastDraw = now;
        draw(false);
      }
    },
    note(message) {
      if (midLine) io.stderr.write('\n');
      io.stderr.write(`${message}\n`);
      if (tty) draw(false);
    },
    done() {
      if (tty || lastDecile < 10) draw(true);
    },
  };
}
