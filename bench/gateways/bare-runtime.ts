/**
 * The overhead baseline: `createGatewayRuntime` on the supergraph, served by node:http directly
 * (no Tollgate lifecycle: no CORS, rate limit, timing headers or error shape).
 * Env: SUPERGRAPH (file), PORT, HOST, QUERY_PLANNER (js | rust).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { benchRuntime, plannerFromEnv } from './benchRuntime.js';

const runtime = benchRuntime(readFileSync(process.env['SUPERGRAPH']!, 'utf8'), plannerFromEnv());
const server = createServer(runtime);
server.listen(Number(process.env['PORT']), process.env['HOST'] ?? '127.0.0.1');
const stop = (): void => {
  server.close();
  server.closeAllConnections();
  void Promise.resolve(runtime.dispose()).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
