import Fastify from 'fastify';

// The HTTP yardstick: a bare Fastify hello-world (default JSON body parser, no auth, no I/O) on
// the 95598 route, in its own process like the real intake. Prints its port on stdout.

const app = Fastify({ logger: false });
app.post('/v1/requests/95598', async (_request, reply) => reply.code(202).send({ hello: 'world' }));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${(app.server.address() as { port: number }).port}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
