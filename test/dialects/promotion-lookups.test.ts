// The promotion face's environment lookups say "did you mean" as the native
// API does: a typo'd X-Ferry-Environment or body.source host is a 400 naming
// where it was, with the closest environments the caller can see; one that
// exists but is not theirs reads exactly like one that does not exist; and an
// install through a typo'd environment is refused, not sent elsewhere.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachServer } from './harness.js';
import { assertError } from './promotion-examples.js';
import { DEV, HOSTS, PREVIEW, PROD, client, first, setUpWorld, untilAssembled, type Call, type PromotionWorld } from './promotion-world.js';

/** One character off: `100000001` -> `100000091`. */
const typo = (id: string) => `${id.slice(0, -2)}9${id.slice(-1)}`;

eachServer('promotion face: environment lookups say what the caller may have meant', (server) => {
  let w: PromotionWorld;
  let pat: Call;
  let olga: Call;
  let pkgId = '';

  before(async () => {
    w = await setUpWorld(server());
    pat = client(server(), { apikey: w.pat });
    olga = client(server(), { apikey: w.olga });
    const made = await pat('POST', '/packages', {
      json: { name: 'One template', objectCollections: [{ objCode: 'TMPL', entities: [{ ID: first(w.dev, 'TMPL').id }] }] },
      env: DEV,
    });
    pkgId = made.json.data.id;
    await untilAssembled(pat, pkgId);
    await pat('PATCH', `/packages/${pkgId}`, { json: { status: 'ACTIVE' } });
  });

  it('a typo in X-Ferry-Environment is a 400 naming the header and the closest environment ids the caller can see', async () => {
    const r = await pat('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, env: typo(PROD) });
    assertError(r, 400, new RegExp(`^X-Ferry-Environment: no environment ${typo(PROD)} \\(did you mean ${PROD}\\?\\); GET /api/v1/environments`));
    const created = await pat('POST', '/packages', { json: { name: 'Typo' }, env: typo(DEV) });
    assertError(created, 400, new RegExp(`no environment ${typo(DEV)} \\(did you mean ${DEV}\\?\\)`));
  });

  it('an environment the caller cannot see reads exactly like one that does not exist, and is never suggested', async () => {
    const missing = '100000077';
    // olga sees production only: development (and its near typo) are, to her, like an id nobody has.
    const hidden = await olga('POST', '/packages', { json: { name: 'x' }, env: DEV });
    const none = await olga('POST', '/packages', { json: { name: 'x' }, env: missing });
    assertError(hidden, 400);
    assertError(none, 400);
    assert.equal(hidden.json.error.message.replace(DEV, 'X'), none.json.error.message.replace(missing, 'X'));
    assert.match(hidden.json.error.message, new RegExp(`did you mean ${PROD}\\?`), 'her own environment is the closest she can see');
    const near = await olga('POST', '/packages', { json: { name: 'x' }, env: typo(DEV) });
    assertError(near, 400);
    assert.doesNotMatch(near.json.error.message, new RegExp(DEV));
    // pat, who sees all three, is offered the one he meant.
    assert.match((await pat('POST', '/packages', { json: { name: 'x' }, env: typo(DEV) })).json.error.message, new RegExp(`did you mean ${DEV}`));
  });

  it('a typo in the host of body.source is a 400 with the closest host the caller can see', async () => {
    const typoHost = HOSTS[DEV].replace('example', 'exmaple');
    const r = await pat('POST', '/packages', { json: { name: 'x', source: `https://${typoHost}` } });
    assertError(r, 400, new RegExp(`^body\\.source https://${typoHost} names no environment: .* has the host ${typoHost} \\(did you mean ${HOSTS[DEV]}\\?\\)`));
    // To olga the development host is unknown: no suggestion of it, and the same words as a host nobody has.
    const hers = await olga('POST', '/packages', { json: { name: 'x', source: `https://${typoHost}` } });
    assertError(hers, 400);
    assert.doesNotMatch(hers.json.error.message, /did you mean/);
    const theirs = await olga('POST', '/packages', { json: { name: 'x', source: `https://${HOSTS[DEV]}` } });
    const nobodys = await olga('POST', '/packages', { json: { name: 'x', source: 'https://nobody.example.test' } });
    assert.equal(theirs.json.error.message.replaceAll(HOSTS[DEV], 'X'), nobodys.json.error.message.replaceAll('nobody.example.test', 'X'));
  });

  it('an install sent through a typo of its environment is refused, and nothing is installed', async () => {
    const pre = await pat('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, env: PREVIEW });
    assert.equal(pre.status, 200, pre.text);
    const r = await pat('POST', `/installations/${pre.json.id}/install`, { json: {}, env: typo(PREVIEW) });
    assertError(r, 400, new RegExp(`no environment ${typo(PREVIEW)} \\(did you mean ${PREVIEW}\\?\\)`));
    // 003's word for a pre-run not installed (yet): the install never started.
    assert.equal((await pat('GET', `/installations/${pre.json.id}`)).json.status, 'PREPARING');
  });
});
