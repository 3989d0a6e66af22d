import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import pino from 'pino';
import { LazyChildLogger } from '../../src/server/lazy-logger.js';

/** A pino logger writing its lines into an array, and how many children it made. */
function collecting(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  let children = 0;
  const logger = pino({ level, onChild: () => void children++ }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { logger, lines, children: () => children };
}

describe('LazyChildLogger', () => {
  it('makes no child until something logs through it, then logs with its bindings', () => {
    const { logger, lines, children } = collecting();
    const lazy = new LazyChildLogger(logger, { reqId: 'r-1' }, {});
    assert.equal(children(), 0);
    assert.equal(lazy.level, 'info');
    lazy.info({ what: 'x' }, 'hello %s', 'world');
    lazy.error(new Error('boom'));
    assert.equal(children(), 1, 'one child, made once');
    assert.equal(lines.length, 2);
    assert.deepEqual([lines[0]!.reqId, lines[0]!.what, lines[0]!.msg], ['r-1', 'x', 'hello world']);
    assert.equal(lines[1]!.reqId, 'r-1');
    assert.equal((lines[1]!.err as { message: string }).message, 'boom');
  });

  it('keeps the level its options give, and a level set on it', () => {
    const { logger, lines } = collecting();
    const quiet = new LazyChildLogger(logger, { reqId: 'r-2' }, { level: 'warn' });
    assert.equal(quiet.level, 'warn');
    quiet.info('not written');
    quiet.warn('written');
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['written'],
    );
    quiet.level = 'error';
    quiet.warn('not written either');
    assert.equal(lines.length, 1);
    const grandchild = quiet.child({ step: 2 });
    grandchild.error('deeper');
    assert.deepEqual([lines[1]!.reqId, lines[1]!.step], ['r-2', 2]);
  });

  it('is what Fastify hands a request as request.log: a route logging through it writes the request id', async () => {
    const { logger, lines } = collecting();
    const app = Fastify({ loggerInstance: logger, disableRequestLogging: true, childLoggerFactory: (l, b, o) => new LazyChildLogger(l, b, o) });
    app.get('/quiet', async () => ({ ok: true }));
    app.get('/loud', async (request) => {
      request.log.warn('route says something');
      return { ok: true };
    });
    const quiet = await app.inject({ method: 'GET', url: '/quiet' });
    const loud = await app.inject({ method: 'GET', url: '/loud' });
    await app.close();
    assert.equal(quiet.statusCode, 200);
    assert.equal(loud.statusCode, 200);
    // Only the loud route's line carries a request id: the quiet one wrote nothing.
    const said = lines.filter((l) => 'reqId' in l);
    assert.deepEqual(
      said.map((l) => l.msg),
      ['route says something'],
    );
    assert.match(String(said[0]!.reqId), /^req-/, "Fastify's request id");
  });
});
