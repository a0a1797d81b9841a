import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/common/errors.js';
import { hashPassword, verifyPasswordHash } from '../../src/credentials/password.js';

const fast = { N: 1024, r: 8, p: 1 };

describe('password hashing', () => {
  it('stores scrypt parameters, a salt and the hash, never the password', async () => {
    const hash = await hashPassword('correct horse battery', fast);
    expect(hash).toMatch(/^scrypt\$N=1024,r=8,p=1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(hash).not.toContain('correct');
  });

  it('salts every hash differently', async () => {
    expect(await hashPassword('same password', fast)).not.toBe(await hashPassword('same password', fast));
  });

  it('accepts the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery', fast);
    expect(await verifyPasswordHash('correct horse battery', hash)).toBe(true);
    expect(await verifyPasswordHash('correct horse batterz', hash)).toBe(false);
  });

  it('uses the default parameters N=2^15, r=8, p=1', async () => {
    expect(await hashPassword('a long enough one')).toMatch(/^scrypt\$N=32768,r=8,p=1\$/);
  });

  it('refuses a stored value it did not write, or one asking for absurd work', async () => {
    expect(await verifyPasswordHash('x'.repeat(10), 'plain')).toBe(false);
    expect(await verifyPasswordHash('x'.repeat(10), 'scrypt$N=1073741824,r=8,p=1$AAAA$AAAA')).toBe(false);
  });

  it('refuses passwords that are too short or too long', async () => {
    await expect(hashPassword('short')).rejects.toThrow(UsageError);
    await expect(hashPassword('x'.repeat(1025))).rejects.toThrow(
      'a password must have 8 to 1024 characters; found 1025',
    );
  });
});
