import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, formatBytes, formatDuration } from '../../src/client/progress.js';

const MiB = 1024 * 1024;

/** A progress sink on a captured stream with a clock the test moves. */
function harness(tty: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty });
  let output = '';
  stream.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let now = 0;
  const progress = createProgress(stream, () => now);
  return {
    progress,
    tick: (ms: number) => {
      now += ms;
    },
    output: () => output,
  };
}

describe('plain progress (not a terminal)', () => {
  it('prints a start line, a line per 10%, and a done line', () => {
    const { progress, tick, output } = harness(false);
    progress.start('agent.jar', 10 * MiB, 0);
    for (let i = 0; i < 20; i++) {
      tick(100);
      progress.advance(MiB / 2);
    }
    progress.finish();
    const lines = output().trimEnd().split('\n');
    expect(lines[0]).toBe('downloading agent.jar (10.0 MiB)');
    expect(lines.slice(1, -1).map((line) => line.trim().split(' ')[0])).toEqual([
      '10%',
      '20%',
      '30%',
      '40%',
      '50%',
      '60%',
      '70%',
      '80%',
      '90%',
    ]);
    expect(lines[1]).toBe(' 10%  1.0 MiB of 10.0 MiB  5.0 MiB/s  ETA 0:02');
    expect(lines.at(-1)).toBe('downloaded 10.0 MiB in 2.0 s (5.0 MiB/s)');
    expect(output()).not.toContain('\r');
  });

  it('also prints a line after 5 s without a new tenth', () => {
    const { progress, tick, output } = harness(false);
    progress.start('agent.jar', 100 * MiB, 0);
    tick(4000);
    progress.advance(2 * MiB);
    expect(output().split('\n')).toHaveLength(2);
    tick(1000);
    progress.advance(3 * MiB);
    expect(output().split('\n')[1]).toBe('  5%  5.0 MiB of 100.0 MiB  1.0 MiB/s  ETA 1:35');
  });

  it('says where a resumed download starts and counts the rate from there', () => {
    const { progress, tick, output } = harness(false);
    progress.start('agent.jar', 4 * MiB, 3 * MiB);
    tick(1000);
    progress.advance(MiB);
    progress.finish();
    expect(output()).toBe(
      'resuming agent.jar at 3.0 MiB (4.0 MiB)\ndownloaded 1.0 MiB in 1.0 s (1.0 MiB/s)\n',
    );
  });

  it('shows bytes and rate when the size is unknown', () => {
    const { progress, tick, output } = harness(false);
    progress.start('agent.jar', undefined, 0);
    tick(6000);
    progress.advance(3 * MiB);
    expect(output()).toBe('downloading agent.jar (size unknown)\n3.0 MiB  512.0 KiB/s  ETA --:--\n');
  });
});

describe('terminal progress', () => {
  it('redraws one line with \\r at most every 100 ms and ends it with a newline', () => {
    const { progress, tick, output } = harness(true);
    progress.start('agent.jar', 4 * MiB, 0);
    progress.advance(MiB); // same instant as the start: throttled
    tick(100);
    progress.advance(MiB);
    progress.finish();
    const frames = output().split('\r').slice(1);
    expect(frames).toHaveLength(3);
    expect(frames[0]).toBe('agent.jar [....................]   0%  0 B / 4.0 MiB  0 B/s  ETA --:--\u001b[K');
    expect(frames[1]).toBe(
      'agent.jar [##########..........]  50%  2.0 MiB / 4.0 MiB  20.0 MiB/s  ETA 0:01\u001b[K',
    );
    expect(frames[2]).toBe(
      'agent.jar [##########..........]  50%  2.0 MiB / 4.0 MiB  20.0 MiB/s  ETA 0:01\u001b[K\n',
    );
    expect(output().split('\n')).toEqual([expect.any(String), '']);
  });

  it('ends a drawn line when the transfer fails, and writes nothing otherwise', () => {
    const failed = harness(true);
    failed.progress.start('agent.jar', MiB, 0);
    failed.progress.stop();
    expect(failed.output().endsWith('\u001b[K\n')).toBe(true);
    const idle = harness(true);
    idle.progress.stop();
    expect(idle.output()).toBe('');
  });

  it('shortens a long name to keep the line on one terminal row', () => {
    const { progress, output } = harness(true);
    progress.start(`${'x'.repeat(40)}.jar`, MiB, 0);
    expect(output()).toMatch(/^\rx{27}… \[/);
  });
});

describe('formatBytes and formatDuration', () => {
  it('uses binary units with one decimal', () => {
    expect([0, 1023, 1024, 1536, MiB * 1.25, 3 * 1024 * MiB].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '1.3 MiB',
      '3.0 GiB',
    ]);
  });

  it('prints m:ss, and h:mm:ss from an hour on', () => {
    expect([0, 0.2, 59, 61, 3600, 3725].map(formatDuration)).toEqual([
      '0:00',
      '0:01',
      '0:59',
      '1:01',
      '1:00:00',
      '1:02:05',
    ]);
  });
});
