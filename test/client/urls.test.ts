import { describe, expect, it } from 'vitest';
import {
  companionUrls,
  companionUrlsFromLink,
  displayUrl,
  isSignedLink,
  jwksUrl,
  parseLinkHeader,
  requestedBundle,
  signedLinkToken,
} from '../../src/client/urls.js';

const api = new URL('https://ap.example/api/v1/orgs/acme/agents/java/1.2.3/bundle');
const link = new URL('https://ap.example/dl/l1.eyJhIjoxfQ.c2lnbmF0dXJl');

describe('displayUrl', () => {
  it('hides a signed link token, also under the link', () => {
    expect(displayUrl(link)).toBe('https://ap.example/dl/…');
    expect(displayUrl(new URL(`${link.href}/bundle.sha256`))).toBe('https://ap.example/dl/…/bundle.sha256');
  });

  it('drops the query, the fragment and any user info', () => {
    expect(displayUrl(new URL('https://me:pw@ap.example/x/bundle?token=s3cret#frag'))).toBe(
      'https://ap.example/x/bundle',
    );
  });

  it('keeps an API URL whole', () => {
    expect(displayUrl(api)).toBe(api.href);
  });
});

describe('signed links', () => {
  it('tells a link from the files under it and from API URLs', () => {
    expect(isSignedLink(link)).toBe(true);
    expect(isSignedLink(new URL(`${link.href}/`))).toBe(true);
    expect(isSignedLink(new URL(`${link.href}/bundle.sig`))).toBe(false);
    expect(isSignedLink(api)).toBe(false);
  });

  it('extracts the token so it can be scrubbed', () => {
    expect(signedLinkToken(new URL(`${link.href}/bundle.sig`))).toBe('l1.eyJhIjoxfQ.c2lnbmF0dXJl');
    expect(signedLinkToken(api)).toBeUndefined();
  });
});

describe('companionUrls', () => {
  it('puts .sha256 and .sig beside an API bundle', () => {
    const urls = companionUrls(api);
    expect(urls?.statement.href).toBe(`${api.href}.sha256`);
    expect(urls?.signature.href).toBe(`${api.href}.sig`);
  });

  it('puts bundle.sha256 and bundle.sig under a signed link', () => {
    const urls = companionUrls(link);
    expect(urls?.statement.href).toBe(`${link.href}/bundle.sha256`);
    expect(urls?.signature.href).toBe(`${link.href}/bundle.sig`);
  });

  it('knows nothing for another shape', () => {
    expect(companionUrls(new URL('https://mirror.example/agents/agent.jar'))).toBeUndefined();
  });
});

describe('parseLinkHeader', () => {
  it('resolves relative targets against the request URL, by relation type', () => {
    const header = '<bundle.sha256>; rel="agentpack-statement", </x/bundle.sig>; rel=agentpack-signature';
    const links = parseLinkHeader(header, api);
    expect(links.get('agentpack-statement')?.href).toBe(`${api.href}.sha256`);
    expect(links.get('agentpack-signature')?.href).toBe('https://ap.example/x/bundle.sig');
  });

  it('reads several relation types, other parameters, and skips entries without rel', () => {
    const header = '<https://o.example/a>; title="x, y"; rel="alternate AGENTPACK-STATEMENT", <b>; type=x';
    const links = parseLinkHeader(header, api);
    expect([...links.keys()]).toEqual(['alternate', 'agentpack-statement']);
    expect(links.get('agentpack-statement')?.href).toBe('https://o.example/a');
  });

  it('needs both the statement and the signature', () => {
    expect(companionUrlsFromLink('<a.sha256>; rel="agentpack-statement"', api)).toBeUndefined();
    expect(companionUrlsFromLink(null, api)).toBeUndefined();
  });
});

describe('requestedBundle and jwksUrl', () => {
  it('reads org, kind and version from an API bundle URL, decoded', () => {
    expect(requestedBundle(new URL('https://h/api/v1/orgs/ac%20me/agents/java/latest/bundle'))).toEqual({
      orgId: 'ac me',
      kind: 'java',
      version: 'latest',
    });
    expect(requestedBundle(link)).toBeUndefined();
  });

  it('finds the JWKS on the origin of any URL', () => {
    expect(jwksUrl(link).href).toBe('https://ap.example/.well-known/agentpack/jwks.json');
  });
});
