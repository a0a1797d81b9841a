import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/credentials/duration.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['30s', 30],
    ['15m', 900],
    ['1h', 3600],
    ['24h', 86400],
    ['7d', 604800],
    ['30d', 2592000],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '10', '1w', '-1h', '1.5h', 'h', '24 hours', '1h30m'])(
    'refuses %j naming the expected forms',
    (text) => {
      expect(() => parseDuration(text)).toThrow(
        /^expected a duration like 0, 30s, 15m, 1h, 24h or 7d; found '/,
      );
    },
  );

  it('refuses a grace period longer than 30 days', () => {
    expect(() => parseDuration('31d')).toThrow(
      'a grace period must be 0 to 2592000 seconds (30d); found 2678400',
    );
  });
});
