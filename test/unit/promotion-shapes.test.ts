// The promotion face's shapes (003's words for Ferry's plans and packages), pure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Installation, PackageEntity, PlanEntry } from '../../src/core/types.js';
import { DEFAULT_CATALOG } from '../../src/core/default-catalog.js';
import { actionWord, displayEntitiesOf, installationStatusWord, jsonWith, translationMap } from '../../src/server/dialects/promotion/shapes.js';

const inst = (over: Partial<Installation>): Installation => ({
  id: 'i1',
  packageId: 'p1',
  packageVersion: 1,
  targetEnvId: 'prod',
  sourceEnvUid: 'u',
  status: 'PREPARED',
  preparedAtVersion: 1,
  force: false,
  policy: 'default',
  keepExisting: true,
  userId: 'pat',
  summary: { create: 0, update: 0, useExisting: 0, merge: 0, ignore: 0, remove: 0, invalid: 0, drift: 0 },
  error: null,
  registeredAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  installedAt: null,
  rolledBackAt: null,
  ...over,
});

const entry = (over: Partial<PlanEntry>): PlanEntry => ({
  type: 'TMPL',
  sourceId: 't1',
  name: 'Onboarding',
  action: 'CREATE',
  autoAction: 'CREATE',
  isValid: true,
  reason: null,
  targetId: null,
  match: 'none',
  drift: false,
  changes: [],
  ord: 0,
  installationStatus: 'PENDING',
  statusReason: null,
  ...over,
});

describe('promotion shapes', () => {
  it('a pre-run has no installationStatus; a CREATE has no targetId until it is installed', () => {
    const map = translationMap(inst({}), [
      entry({}),
      entry({ type: 'GROUP', sourceId: 'g1', name: 'Default Group', action: 'USEEXISTING', targetId: 'G9' }),
      entry({ type: 'TTSK', sourceId: 'k1', name: 'Brief', isValid: false, reason: 'its owner TMPL:t1 is IGNOREd but it is not: IGNORE it too' }),
    ]);
    assert.deepEqual(map, {
      TMPL: { t1: { name: 'Onboarding', action: 'CREATE', isValid: true } },
      GROUP: { g1: { name: 'Default Group', action: 'USEEXISTING', isValid: true, targetId: 'G9' } },
      TTSK: { k1: { name: 'Brief', action: 'CREATE', isValid: false, reason: 'its owner TMPL:t1 is IGNOREd but it is not: IGNORE it too' } },
    });
  });

  it('a failed install wrote nothing: every record is FAILED, the one that failed with its own reason', () => {
    const map = translationMap(inst({ status: 'FAILED', error: 'UNIQUE constraint failed' }), [
      entry({}),
      entry({ type: 'TTSK', sourceId: 'k1', name: 'Brief', installationStatus: 'FAILED', statusReason: 'UNIQUE constraint failed' }),
    ]);
    assert.deepEqual(map.TTSK!.k1, { name: 'Brief', action: 'CREATE', isValid: true, installationStatus: 'FAILED', reason: 'UNIQUE constraint failed' });
    assert.deepEqual(map.TMPL!.t1, {
      name: 'Onboarding',
      action: 'CREATE',
      isValid: true,
      installationStatus: 'FAILED',
      reason: 'not installed: the installation failed at TTSK:k1 and wrote nothing',
    });
  });

  it("speaks each revision's words: PREPARING, INSTALLING; OVERWRITING on a 003 plan, UPDATE with allowUpdate", () => {
    assert.equal(installationStatusWord('PREPARED', false), 'PREPARING');
    assert.equal(installationStatusWord('PREPARED', true), 'INSTALLING');
    assert.equal(installationStatusWord('COMPLETED', false), 'COMPLETED');
    assert.equal(actionWord('UPDATE', { keepExisting: true }), 'OVERWRITING');
    assert.equal(actionWord('UPDATE', { keepExisting: false }), 'UPDATE');
    assert.equal(actionWord('USEEXISTING', { keepExisting: true }), 'USEEXISTING');
  });

  it('displays promotable objects only, the selected types first', () => {
    const e = (type: string, id: string, fields: Record<string, unknown> = {}): PackageEntity => ({ type, id, name: id, fields, hash: '', ord: 0, via: null });
    const shown = displayEntitiesOf(DEFAULT_CATALOG, { metadata: { displayOrder: ['TMPL'], installOrder: [], deferredRefs: 0 } }, [
      e('GROUP', 'g1', { description: 'everyone' }),
      e('TMPL', 't1'),
      e('TTSK', 'k1'),
    ]);
    assert.deepEqual(shown, { TMPL: [{ id: 't1', name: 't1', description: null }], GROUP: [{ id: 'g1', name: 'g1', description: 'everyone' }] });
    assert.deepEqual(Object.keys(shown), ['TMPL', 'GROUP']);
  });

  it('adds a member that is JSON text already', () => {
    assert.equal(jsonWith({ id: 'i1' }, 'translationMap', '{"A":{}}'), '{"id":"i1","translationMap":{"A":{}}}');
    assert.equal(jsonWith({}, 'x', '[]'), '{"x":[]}');
    assert.deepEqual(JSON.parse(jsonWith({ a: 'q"uote' }, 'b', '1')), { a: 'q"uote', b: 1 });
  });
});
