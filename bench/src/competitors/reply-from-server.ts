import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';

const app = Fastify();
await app.register(replyFrom, { base: process.env.UPSTREAM! });
app.all('/*', (req, reply) => reply.from(req.url));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
