import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CATALOG as catalog } from '../../src/core/default-catalog.js';
import { countByPart, expectedStatus, importRefusal, orderedParts, outcomeByPart, totalOutcome } from '../../src/core/part-outcomes.js';
import type { Action, EntryStatus, PlanEntry } from '../../src/core/types.js';

const entry = (type: string, id: string, action: Action, extra: Partial<PlanEntry> = {}): PlanEntry => ({
  type,
  sourceId: id,
  name: `${type} ${id}`,
  action,
  autoAction: action,
  isValid: true,
  reason: null,
  targetId: action === 'CREATE' ? null : `t-${id}`,
  match: action === 'CREATE' ? 'none' : 'id',
  drift: false,
  changes: [],
  ord: 0,
  installationStatus: 'PENDING',
  statusReason: null,
  ...extra,
});

/** The same plan after an install: every entry has its recorded outcome. */
const installed = (entries: PlanEntry[]): PlanEntry[] => entries.map((e) => ({ ...e, installationStatus: expectedStatus(e) }));

const counts = (m: Map<string, { added: number; modified: number; removed: number; failed: number; skipped: number }>) =>
  Object.fromEntries([...m].map(([p, o]) => [p, [o.added, o.modified, o.removed, o.failed, o.skipped]]));

describe('part outcomes', () => {
  it('orders the parts: the preferred ones first in their order, the rest as the catalog first uses them', () => {
    assert.deepEqual(orderedParts(catalog, ['metadata', 'workflow', 'customAction', 'formLayouts', 'uiComponentConfig']), [
      'metadata',
      'workflow',
      'formLayouts',
      'uiComponentConfig',
      'securityConfiguration',
    ]);
    assert.deepEqual(orderedParts(catalog), ['workflow', 'uiComponentConfig', 'formLayouts', 'metadata', 'securityConfiguration']);
  });

  it('counts entities by part', () => {
    assert.deepEqual([...countByPart(catalog, { TMPL: 1, TTSK: 3, GROUP: 2, ROLE: 1, CTGY: 1 })].sort(), [
      ['formLayouts', 1],
      ['metadata', 3],
      ['workflow', 4],
    ]);
  });

  it('a plan and the install it predicts count the same, part by part', () => {
    const plan = [
      entry('TMPL', 't1', 'CREATE'),
      entry('TTSK', 'k1', 'UPDATE', { drift: true }),
      entry('TTSK', 'k2', 'MERGE'),
      entry('GROUP', 'g1', 'USEEXISTING'),
      entry('ROLE', 'r1', 'IGNORE'),
      entry('ROLE', 'r2', 'REMOVE'),
      entry('ROLE', 'r3', 'REMOVE', { targetId: null, reason: 'not present in the target: nothing to remove' }),
    ];
    const dry = outcomeByPart(catalog, plan, { refusal: null });
    const real = outcomeByPart(catalog, installed(plan), { refusal: null });
    assert.deepEqual(counts(dry), { workflow: [1, 2, 0, 0, 0], metadata: [0, 0, 1, 0, 3] });
    assert.deepEqual(real, dry);
    assert.deepEqual(dry.get('workflow')!.warnings, ['TTSK k1 "TTSK k1": edited in the target since it was last imported; the import replaces that edit']);
    assert.deepEqual(dry.get('metadata')!.warnings, ['ROLE r3 "ROLE r3": not present in the target: nothing to remove']);
    assert.deepEqual(totalOutcome(dry.values()), { added: 1, modified: 2, removed: 1, failed: 0, skipped: 3 });
  });

  it('a refused import counts its invalid entries as failed and everything else as skipped, with the reasons as errors', () => {
    const plan = [entry('TMPL', 't1', 'CREATE'), entry('TTSK', 'k1', 'CREATE', { isValid: false, reason: 'required ref templateID -> TMPL:x is missing' })];
    const refusal = importRefusal(1, null);
    const dry = outcomeByPart(catalog, plan, { refusal });
    assert.deepEqual(counts(dry), { workflow: [0, 0, 0, 1, 1] });
    assert.deepEqual(dry.get('workflow')!.errors, ['TTSK k1 "TTSK k1": required ref templateID -> TMPL:x is missing', refusal]);
    assert.match(refusal!, /1 object failed.*nothing is written/);
    // After an install that failed on one object (and rolled back), that object failed and the rest was not written.
    const failed: EntryStatus = 'FAILED';
    const real = outcomeByPart(
      catalog,
      [entry('TMPL', 't1', 'CREATE', { installationStatus: failed, statusReason: 'disk full' }), entry('GROUP', 'g', 'CREATE')],
      {
        refusal: 'the import failed: disk full; nothing was written',
      },
    );
    assert.deepEqual(counts(real), { workflow: [0, 0, 0, 1, 0], metadata: [0, 0, 0, 0, 1] });
    assert.deepEqual(real.get('workflow')!.errors, ['TMPL t1 "TMPL t1": disk full', 'the import failed: disk full; nothing was written']);
  });

  it('caps the messages of a part and says how many more there are', () => {
    const plan = Array.from({ length: 5 }, (_, i) => entry('TTSK', `k${i}`, 'CREATE', { isValid: false, reason: 'bad' }));
    const o = outcomeByPart(catalog, plan, { refusal: null, maxMessages: 2 }).get('workflow')!;
    assert.equal(o.failed, 5);
    assert.deepEqual(o.errors, ['TTSK k0 "TTSK k0": bad', 'TTSK k1 "TTSK k1": bad', '... and 3 more']);
  });
});
