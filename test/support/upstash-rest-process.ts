/**
 * The Upstash REST stand-in (upstash-rest-server.ts) in a process of its own, for load tests: in
 * the test's process it would share one event loop with the load the test generates, and answer
 * late because of the test, not because of anything a real Upstash does. Run as a script, it
 * serves and prints its URL; imported, `startUpstashRestProcess` starts it as a child.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startUpstashRestServer } from './upstash-rest-server.js';

export interface UpstashRestProcess {
  readonly url: string;
  readonly token: string;
  /** Requests answered so far, by path. */
  requests(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const script = fileURLToPath(import.meta.url);

export async function startUpstashRestProcess(options: { redisUrl: string; token?: string }): Promise<UpstashRestProcess> {
  const token = options.token ?? 'test-token';
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, STAND_IN_REDIS_URL: options.redisUrl, STAND_IN_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the REST stand-in did not start within 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`the REST stand-in exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
  });
  return {
    url,
    token,
    async requests() {
      const response = await fetch(`${url}/__requests`);
      return (await response.json()) as Record<string, number>;
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === script) {
  const server = await startUpstashRestServer({ redisUrl: process.env['STAND_IN_REDIS_URL']!, token: process.env['STAND_IN_TOKEN']! });
  console.log(server.url);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
