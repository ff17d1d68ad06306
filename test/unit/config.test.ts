import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, VARS, loadConfig } from '../../src/config.js';
import { PROJECT_ROOT } from '../../src/paths.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(7700);
    expect(config.redis).toEqual({ kind: 'embedded' });
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(config.adminKey).toBeUndefined();
    expect(config.corsOrigins).toEqual(['*']);
    expect(config.layerRateLimitRpm).toBe(600);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('accepts the PLYRA_ aliases', () => {
    const config = loadConfig({
      PLYRA_ADMIN_API_KEY: 'plm_admin_from_plyra_env',
      PLYRA_RATE_LIMIT_RPM: '120',
    });
    expect(config.adminKey).toBe('plm_admin_from_plyra_env');
    expect(config.layerRateLimitRpm).toBe(120);
  });

  it('refuses an admin key under 32 characters in production only', () => {
    const short = { MNEMO_ADMIN_KEY: 'x'.repeat(31) };
    expect(() => loadConfig({ ...short, MNEMO_ENV: 'production' })).toThrow(
      /MNEMO_ADMIN_KEY: in production the admin key must be at least 32 characters \(got 31\)/,
    );
    expect(loadConfig({ ...short, MNEMO_ENV: 'staging' }).adminKey).toBe(short.MNEMO_ADMIN_KEY);
    expect(loadConfig({ MNEMO_ADMIN_KEY: 'x'.repeat(32), MNEMO_ENV: 'production' }).env).toBe('production');
    // Unset, a key of 58 characters is generated.
    expect(loadConfig({ MNEMO_ENV: 'production' }).adminKey).toBeUndefined();
  });

  it('limits failed authentications by default: a burst of 20, then one every 6 s', () => {
    const config = loadConfig({});
    expect([config.authFailureBurst, config.authFailureRefillMs]).toEqual([20, 6000]);
  });

  it('prefers the MNEMO_ name over its alias', () => {
    const config = loadConfig({ MNEMO_ADMIN_KEY: 'mnemo-key-1234567890', PLYRA_ADMIN_API_KEY: 'plyra-key' });
    expect(config.adminKey).toBe('mnemo-key-1234567890');
  });

  it('reports every invalid variable at once, naming each', () => {
    let error: unknown;
    try {
      loadConfig({
        MNEMO_PORT: 'eighty',
        MNEMO_ENV: 'moon',
        MNEMO_BODY_LIMIT_BYTES: '12',
        REDIS_URL: 'http://x',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/MNEMO_PORT: expected an integer/);
    expect(problems).toMatch(/MNEMO_ENV: expected one of/);
    expect(problems).toMatch(/MNEMO_BODY_LIMIT_BYTES: expected an integer from 1024/);
    expect(problems).toMatch(/REDIS_URL: expected redis:\/\//);
  });

  it('parses standalone and cluster Redis targets', () => {
    expect(loadConfig({ REDIS_URL: 'redis://10.0.0.1:6380/2' }).redis).toEqual({
      kind: 'url',
      url: 'redis://10.0.0.1:6380/2',
    });
    expect(loadConfig({ REDIS_URL: 'redis-cluster://:s3cret@a:7000,b:7001' }).redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      password: 's3cret',
      tls: false,
    });
    expect(() => loadConfig({ REDIS_URL: 'redis-cluster://a' })).toThrow(/host:port/);
  });

  it('splits CORS origins', () => {
    expect(loadConfig({ MNEMO_CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });

  it('documents every variable in the README', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    for (const spec of Object.values(VARS)) {
      for (const name of [spec.name, ...(spec.aliases ?? [])]) expect(readme).toContain(`\`${name}\``);
    }
  });
});
