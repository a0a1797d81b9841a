import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { jwksDocument, publicKeyPem } from '../../bundles/signing-keys.js';
import { NotFoundError } from '../../common/errors.js';
import { errorResponses } from '../schemas/common.js';

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
    '/.well-known/agentpack/signing-keys/:keyId.pem',
    {
      schema: {
        tags: ['signing'],
        summary:
          'One signing public key by id, current or retired (SPKI PEM): the key a statement names in its key-id line',
        params: Type.Object({
          keyId: Type.String({ pattern: '^[0-9a-f]{16}$', description: '16 hex digits' }),
        }),
        produces: ['application/x-pem-file'],
        response: { 200: Type.String({ description: 'PEM' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const key = (await signing.publicKeys()).find((k) => k.keyId === request.params.keyId);
      if (key === undefined) throw new NotFoundError(`no signing key ${request.params.keyId}`);
      return reply
        .type('application/x-pem-file')
        .header('cache-control', CACHE)
        .send(publicKeyPem(key.publicKey));
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
