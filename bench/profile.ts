/**
 * Where a gateway's time goes: runs it under `node --cpu-prof` with the benchmark's load and
 * sums the profile's self time by package and by function, over the measured window only
 * (start-up, warm-up and shutdown are cut off using the profile's sample times).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { start, type BenchContext, type Contender } from './gateways/contenders.js';
import { load } from './measure.js';

export interface ProfileSummary {
  readonly contender: string;
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  /** Busy (non-idle) CPU time in the window per request, ms. */
  readonly cpuMsPerRequest: number;
  /** Busy share of the window. */
  readonly busyShare: number;
  readonly byPackage: readonly { name: string; share: number; msPerRequest: number }[];
  readonly topFunctions: readonly { name: string; where: string; share: number }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A profile frame's package: node_modules/<pkg>, Tollgate's own, Node's, or V8's. */
function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(V8 builtins: JSON, RegExp, …)';
  if (url.startsWith('node:')) {
    if (/async_hooks/.test(url)) return '(node: async_hooks, i.e. AsyncLocalStorage)';
    if (/event_target|abort_controller|domexception/.test(url)) return '(node: AbortSignal, EventTarget)';
    if (/_http_|net|stream|dns|tcp|timers/.test(url)) return '(node: http, net, streams, timers)';
    if (/modules|vm/.test(url)) return '(node: module loading)';
    return '(node: other)';
  }
  const at = url.lastIndexOf('node_modules/');
  if (at !== -1) {
    const rest = url.slice(at + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.includes('/dist/bench/')) return 'bench entry';
  if (url.includes('/dist/')) return 'tollgate (dist/)';
  return url;
}

export function summarizeProfile(
  profile: CpuProfile,
  window: { fromEndMs: number; lengthMs: number },
  requests: number,
  meta: { contender: string; connections: number; seconds: number },
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const endUs = profile.endTime;
  const toUs = endUs - window.fromEndMs * 1000;
  const fromUs = toUs - window.lengthMs * 1000;
  const self = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const next = profile.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t > toUs) continue;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + next);
    total += next;
  }
  const packages = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; us: number }>();
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') idle += us;
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
    if (functionName === '(idle)') continue;
    const key = `${functionName}@${url}:${lineNumber}`;
    const where = url ? `${pkg} ${basename(url)}:${lineNumber + 1}` : pkg;
    const entry = functions.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const busy = total - idle;
  const perRequest = (us: number) => (requests ? us / 1000 / requests : 0);
  return {
    ...meta,
    requests,
    cpuMsPerRequest: perRequest(busy),
    busyShare: total ? busy / total : 0,
    byPackage: [...packages]
      .filter(([name]) => name !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 16)
      .map(([name, us]) => ({ name, share: busy ? us / busy : 0, msPerRequest: perRequest(us) })),
    topFunctions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 10)
      .map((f) => ({ name: f.name, where: f.where, share: busy ? f.us / busy : 0 })),
  };
}

/** Profiles one contender under load: warm-up, then `seconds` of load at `connections`. */
export async function profileContender(
  contender: Contender,
  ctx: BenchContext,
  body: string,
  options: { connections: number; seconds: number; warmupSeconds: number },
): Promise<ProfileSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-prof-'));
  try {
    const running = await start(contender, ctx, body, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
    await load(running.url, options.connections, options.warmupSeconds);
    const t1 = performance.now();
    const result = await load(running.url, options.connections, options.seconds);
    const t2 = performance.now();
    await running.stop();
    const t3 = performance.now();
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`${contender.id} wrote no CPU profile (did it exit cleanly?)`);
    const keep = process.env['BENCH_KEEP_PROFILES'];
    if (keep) {
      // For a closer look (Chrome DevTools, or a script): <dir>/<contender>.cpuprofile.
      mkdirSync(keep, { recursive: true });
      copyFileSync(join(dir, file), join(keep, `${contender.id}.cpuprofile`));
    }
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    return summarizeProfile(profile, { fromEndMs: t3 - t2, lengthMs: t2 - t1 }, result.requests.total, {
      contender: contender.id,
      connections: options.connections,
      seconds: options.seconds,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
