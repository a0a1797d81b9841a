import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/common/errors.js';
import { parseSetOptions } from '../../src/render/render.js';

describe('parseSetOptions', () => {
  it('splits each option at its first "=", so values may hold "="', () => {
    expect({ ...parseSetOptions(['api.url=https://x/?a=b', 'proxy.password==x=', 'empty=']) }).toEqual({
      'api.url': 'https://x/?a=b',
      'proxy.password': '=x=',
      empty: '',
    });
  });

  it('refuses an option without "=" and does not echo it (it may be a secret)', () => {
    expect(() => parseSetOptions(['a=b', 'apo_secretlooking'])).toThrowError(
      new UsageError('--set #2 must look like name=value (no "=" found)'),
    );
    expect(() => parseSetOptions(['apo_secretlooking'])).toThrow(UsageError);
  });

  it('refuses an empty name', () => {
    expect(() => parseSetOptions(['=value'])).toThrowError(/--set #1 has an empty name/);
  });

  it('refuses a name given twice instead of silently keeping one', () => {
    expect(() => parseSetOptions(['api.url=a', 'api.url=b'])).toThrowError(
      /--set api\.url is given more than once/,
    );
  });

  it('keeps a setting named __proto__ as an ordinary setting', () => {
    const values = parseSetOptions(['__proto__=x']);
    expect(Object.keys(values)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(values)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(values, '__proto__')?.value).toBe('x');
  });
});
