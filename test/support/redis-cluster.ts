/** A private three-master Redis Cluster on free ports, for tests and benchmarks. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, type RedisServer } from './redis-server.js';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RedisCluster {
  readonly servers: readonly RedisServer[];
  /** `127.0.0.1:port` of every master, as `REDIS_CLUSTER_NODES` takes them. */
  readonly nodes: readonly string[];
  stop(): Promise<void>;
}

/** Starts `masters` redis-servers in cluster mode, joins them (no replicas), waits for `cluster_state:ok`. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      servers.push(
        await startRedisServer({
          port,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000'],
        }),
      );
    }
    const nodes = servers.map((server) => `127.0.0.1:${server.port}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + 20_000;
    for (const server of servers) {
      const client = new Redis({ port: server.port, lazyConnect: true });
      await client.connect();
      try {
        while (!/cluster_state:ok/.test(await client.cluster('INFO'))) {
          if (Date.now() > deadline) throw new Error(`cluster not ok on ${server.port}`);
          await sleep(100);
        }
      } finally {
        client.disconnect();
      }
    }
    return { servers, nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
