/**
 * Apollo Gateway (@apollo/gateway) in Apollo Server's standalone server, on the supergraph file.
 * Landing page and usage reporting off; everything else Apollo's defaults (its document and
 * query-plan caches included). Env: SUPERGRAPH (file), PORT, HOST.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';

const gateway = new ApolloGateway({ supergraphSdl: readFileSync(process.env['SUPERGRAPH']!, 'utf8') });
const server = new ApolloServer({ gateway, plugins: [ApolloServerPluginLandingPageDisabled()] });
await startStandaloneServer(server, {
  listen: { port: Number(process.env['PORT']), host: process.env['HOST'] ?? '127.0.0.1' },
});
const stop = (): void => void server.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
