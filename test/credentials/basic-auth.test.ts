import { describe, expect, it } from 'vitest';
import { parseBasicPair, singleHeader } from '../../src/credentials/basic-auth.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('parseBasicPair', () => {
  it('splits base64(user:key) at the first colon, with or without the Basic scheme', () => {
    expect(parseBasicPair(b64('agent_x@acme:aps_k'))).toEqual({ user: 'agent_x@acme', key: 'aps_k' });
    expect(parseBasicPair(`Basic ${b64('a@b.c:k:rest')}`)).toEqual({ user: 'a@b.c', key: 'k:rest' });
  });

  it.each([
    ['no header', null],
    ['not base64', 'not base64!'],
    ['bad padding', 'YWJj='],
    ['no colon', b64('nocolon')],
    ['an empty user', b64(':key')],
    ['an empty key', b64('user:')],
    ['invalid UTF-8', Buffer.from([0xff, 0x3a, 0x61]).toString('base64')],
  ])('gives null for %s', (_name, value) => {
    expect(parseBasicPair(value)).toBeNull();
  });
});

describe('singleHeader', () => {
  it('takes one trimmed value and refuses absent, repeated, empty and huge ones', () => {
    expect(singleHeader({ 'api-key': ' k ' }, 'api-key')).toBe('k');
    expect(singleHeader({}, 'api-key')).toBeNull();
    expect(singleHeader({ 'api-key': ['a', 'b'] }, 'api-key')).toBeNull();
    expect(singleHeader({ 'api-key': '   ' }, 'api-key')).toBeNull();
    expect(singleHeader({ 'api-key': 'x'.repeat(1025) }, 'api-key')).toBeNull();
  });
});
