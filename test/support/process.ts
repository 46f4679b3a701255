import { spawn, type ChildProcess } from 'node:child_process';

export const mainScript = new URL('../../dist/node/main.js', import.meta.url).pathname;

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Every JSON log line written to stdout so far. */
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export const clusterScript = new URL('../../dist/node/cluster.js', import.meta.url).pathname;

export interface GatewayProcessOptions {
  /** How long to wait for the `started` lines; default 30 s. */
  readonly timeoutMs?: number;
  /** The script to run; default `dist/node/main.js` (`clusterScript` for `npm run start:cluster`). */
  readonly script?: string;
  /** How many `started` lines to wait for (one per cluster worker); default 1. */
  readonly started?: number;
}

/** Runs the built Node gateway (`dist/node/main.js`) as `npm start` does, and waits until it serves. */
export async function startGatewayProcess(env: Record<string, string>, options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const { timeoutMs = 30_000, script = mainScript, started = 1 } = options;
  // The `started` line this waits for is logged at info.
  if (env['LOG_LEVEL'] === 'warn' || env['LOG_LEVEL'] === 'error') throw new Error('LOG_LEVEL must be debug or info here');
  let startedLines = 0;
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start in time: ${stderr}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          logs.push(parsed);
          if (parsed['msg'] === 'started' && ++startedLines === started) {
            clearTimeout(timer);
            resolve(String(parsed['url']).replace(/\/graphql$/, ''));
          }
        } catch {
          // Not a log line.
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before serving: ${stderr}`));
    });
  });
  return {
    child,
    url,
    logs,
    stderr: () => stderr,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the gateway expecting it to refuse to start; returns its exit code and stderr. */
export function runGatewayExpectingFailure(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainScript], {
      env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('gateway started although its configuration is bad'));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
