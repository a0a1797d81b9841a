import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { jwksDocument, publicKeyPem } from '../../bundles/signing-keys.js';

const CACHE = 'public, max-age=300';

/** The bundle signing keys, for `openssl pkeyutl -verify` (PEM) and JOSE tooling (JWKS). */
const wellKnown: FastifyPluginAsyncTypebox = async (app) => {
  const { signing } = app.services;

  app.get(
    '/.well-known/agentpack/signing-key.pem',
    {
      schema: {
        tags: ['signing'],
        summary: 'The current signing public key (SPKI PEM); its id is in the Key-Id header',
        produces: ['application/x-pem-file'],
        response: { 200: Type.String({ description: 'PEM' }) },
      },
    },
    async (_request, reply) => {
      const current = await signing.current();
      return reply
        .type('application/x-pem-file')
        .header('cache-control', CACHE)
        .header('key-id', current.keyId)
        .send(publicKeyPem(current.publicKey));
    },
  );

  app.get(
    '/.well-known/agentpack/jwks.json',
    {
      schema: {
        tags: ['signing'],
        summary: 'Every signing public key (current and retired) as a JWKS',
        response: {
          200: Type.Object({
            keys: Type.Array(
              Type.Object({
                kty: Type.Literal('OKP'),
                crv: Type.Literal('Ed25519'),
                x: Type.String(),
                kid: Type.String(),
                use: Type.Literal('sig'),
                alg: Type.Literal('EdDSA'),
              }),
            ),
          }),
        },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', CACHE);
      return jwksDocument(await signing.publicKeys());
    },
  );
};

export default wellKnown;
