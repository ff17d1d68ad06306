import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChainableCommander } from 'ioredis';
import { LUA_DIR } from '../paths.js';
import type { RedisClient } from './clients.js';
import { checkScriptReply } from './script-errors.js';
import { TRACING_OFF, type Tracing } from '../tracing/tracing.js';

/**
 * Lua scripts live in lua/<camelName>-<numKeys>.lua; the file name is the contract (command name and key
 * count). `--- @include "name"` pulls lua/includes/<name>.lua in once. Scripts are registered with ioredis
 * defineCommand, which sends EVALSHA and falls back to EVAL on NOSCRIPT (also inside pipelines).
 */
export interface ScriptSource {
  name: string;
  numberOfKeys: number;
  file: string;
  /** The script with includes inlined: what Redis runs. */
  lua: string;
}

export type ScriptArg = string | number | Buffer;

const FILE_PATTERN = /^([a-z][A-Za-z0-9]*)-(\d+)\.lua$/;
const INCLUDE_PATTERN = /^--- @include "([A-Za-z0-9]+)"\s*$/gm;

function inlineIncludes(source: string, dir: string, seen: Set<string>): string {
  return source.replace(INCLUDE_PATTERN, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    const included = readFileSync(path.join(dir, 'includes', `${name}.lua`), 'utf8');
    return inlineIncludes(included, dir, seen);
  });
}

/** Reads every script of `dir` (default: the project's lua/). */
export function readScripts(dir = LUA_DIR): ScriptSource[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .sort()
    .map((file) => {
      const match = FILE_PATTERN.exec(file);
      if (!match) throw new Error(`lua/${file}: name must be <camelName>-<numKeys>.lua`);
      const raw = readFileSync(path.join(dir, file), 'utf8');
      return {
        name: match[1] as string,
        numberOfKeys: Number(match[2]),
        file,
        lua: inlineIncludes(raw, dir, new Set()),
      };
    });
}

type ScriptFn = (...args: ScriptArg[]) => Promise<unknown>;

/**
 * MNEMO_REDIS_WAIT_REPLICAS: a write script is followed by WAIT on the same connection (a pipeline of the
 * two, so on a cluster it reaches the master that ran the script), and the call fails when fewer replicas
 * confirmed it in time. Scripts that only read, and counters whose loss in a failover costs nothing (rate
 * limits, failed-authentication budgets, last-used stamps), are not waited for.
 */
export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

const NOT_WAITED_FOR = new Set([
  'readEvents',
  'readNewEvents',
  'rateLimit',
  'authFailure',
  'touchCredential',
  'touchEngrams',
  'recordRateLimited',
]);

export class WriteNotReplicated extends Error {
  constructor(script: string, confirmed: number, wanted: number) {
    super(`${script}: ${confirmed} of ${wanted} replica(s) confirmed the write in time`);
    this.name = 'WriteNotReplicated';
  }
}

/** The registered scripts of one client; typed wrappers in domain code call `run`. */
export class Scripts {
  private readonly byName = new Map<string, ScriptSource>();

  constructor(
    private readonly client: RedisClient,
    sources: ScriptSource[] = readScripts(),
    private readonly wait: ReplicaWait = { replicas: 0, timeoutMs: 0 },
    private readonly tracing: Tracing = TRACING_OFF,
  ) {
    for (const source of sources) {
      if (this.byName.has(source.name)) throw new Error(`two scripts are named ${source.name}`);
      this.byName.set(source.name, source);
      client.defineCommand(source.name, { numberOfKeys: source.numberOfKeys, lua: source.lua });
    }
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /**
   * Makes sure Redis holds every script (SCRIPT EXISTS, then SCRIPT LOAD for the missing ones, as after a
   * Redis restart or SCRIPT FLUSH); resolves with how many it had to load. ioredis would load a missing
   * script on first use anyway: this lets a readiness probe say the scripts are there before traffic.
   */
  async ensureLoaded(): Promise<number> {
    const sources = [...this.byName.values()];
    const shas = sources.map((source) => createHash('sha1').update(source.lua).digest('hex'));
    const present = (await this.client.script('EXISTS', ...shas)) as number[];
    const missing = sources.filter((_, i) => present[i] !== 1);
    for (const source of missing) await this.client.script('LOAD', source.lua);
    return missing.length;
  }

  private argsFor(name: string, keys: string[], args: ScriptArg[]): ScriptArg[] {
    const source = this.byName.get(name);
    if (!source) throw new Error(`no Lua script named ${name}`);
    if (keys.length !== source.numberOfKeys) {
      throw new Error(`script ${name} takes ${source.numberOfKeys} keys, got ${keys.length}`);
    }
    return [...keys, ...args];
  }

  /** Runs a script; negative integer replies become ScriptError. */
  run<T = unknown>(name: string, keys: string[], args: ScriptArg[] = []): Promise<T> {
    if (!this.tracing.recording) return this.runUntraced<T>(name, keys, args);
    return this.tracing.child(`redis ${name}`, 'client', { 'db.system': 'redis', 'db.operation': name }, () =>
      this.runUntraced<T>(name, keys, args),
    );
  }

  private async runUntraced<T>(name: string, keys: string[], args: ScriptArg[]): Promise<T> {
    if (this.wait.replicas > 0 && !NOT_WAITED_FOR.has(name)) return this.runAndWait<T>(name, keys, args);
    const all = this.argsFor(name, keys, args);
    const fn = (this.client as unknown as Record<string, ScriptFn>)[name] as ScriptFn;
    return checkScriptReply(name, (await fn.apply(this.client, all)) as T);
  }

  private async runAndWait<T>(name: string, keys: string[], args: ScriptArg[]): Promise<T> {
    const pipeline = this.client.pipeline();
    this.queue(pipeline, name, keys, args);
    pipeline.call('WAIT', this.wait.replicas, this.wait.timeoutMs);
    const [scripted, waited] = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
    if (!scripted || !waited) throw new Error(`${name}: the pipeline answered nothing`);
    if (scripted[0]) throw scripted[0];
    const reply = checkScriptReply(name, scripted[1] as T);
    if (waited[0]) throw waited[0];
    if (Number(waited[1]) < this.wait.replicas)
      throw new WriteNotReplicated(name, Number(waited[1]), this.wait.replicas);
    return reply;
  }

  /** Queues a script on a pipeline or transaction; the caller checks replies with checkScriptReply. */
  queue(pipeline: ChainableCommander, name: string, keys: string[], args: ScriptArg[] = []): void {
    const all = this.argsFor(name, keys, args);
    const fn = (pipeline as unknown as Record<string, (...a: ScriptArg[]) => unknown>)[name];
    if (!fn) throw new Error(`script ${name} is not defined on this pipeline's client`);
    fn.apply(pipeline, all);
  }
}
