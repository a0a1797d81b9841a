// The peer for the handshake figures: a bare Fastify 5 app with one route answering {ok:true}
// on the same method and path as the agent handshake, no plugins, no logger. Run as a child
// process by bench/service.mjs; prints `listening on http://HOST:PORT` once it listens.

import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/agents/v1/handshake', async () => ({ ok: true }));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${address}\n`);
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
