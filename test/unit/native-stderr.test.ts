import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { UWS_CORK_NOTICE, forwardServerStderr } from '../../src/native-stderr.js';

describe("a server process's stderr, as its supervisor passes it on", () => {
  it('passes every line on whole, across chunk boundaries, except the uWS cork notice', async () => {
    const stream = new PassThrough();
    const passed: string[] = [];
    forwardServerStderr(stream, createLogger('silent'), (text) => passed.push(text));
    const ended = new Promise((resolve) => stream.once('end', resolve));
    stream.write('mnemo cannot start: the port');
    stream.write(` is in use\n${UWS_CORK_NOTICE}. See documentation for uWS.HttpResponse.cork`);
    stream.write(' and consult the user manual.\nError: a real one\n    at frame (x.ts:1)\nlast words');
    stream.end();
    await ended;
    expect(passed).toEqual([
      'mnemo cannot start: the port is in use\n',
      'Error: a real one\n',
      '    at frame (x.ts:1)\n',
      'last words\n',
    ]);
  });
});
