/** Sample custom data: parameter groups, parameters with options, groups (a hierarchy) and categories (forms) with their fields and display logic. */
import type { FerryObject } from '../../core/types.js';
import { setDefined, type SampleContext } from './context.js';
import { categoryName, uniqueName } from './names.js';
import { categoryFieldCount, displayLogicCount, optionCount, pairedCategory, pairedGroup } from './plan.js';
import { CATEGORY_CODES, DEPARTMENTS, PARAM_GROUPS, PARAMETERS } from './words.js';

/** PGRP, PARAM and POPT, then GROUP, then CTGY with CTGYPA and CTCSD: groups and forms point at each other (a cycle). */
export function* generateForms(s: SampleContext): Generator<FerryObject> {
  const { plan, n, ids, rng, id, form, make } = s;
  for (let k = 0; k < n.PGRP; k++) {
    yield make('PGRP', k, uniqueName(PARAM_GROUPS, k), { description: `${uniqueName(PARAM_GROUPS, k)} section of custom forms.`, displayOrder: k + 1 });
  }
  for (let k = 0; k < n.PARAM; k++) {
    const options = optionCount(plan, k);
    const name = uniqueName(PARAMETERS, k);
    const dataType = options ? 'TEXT' : rng.pick(['TEXT', 'NMBR', 'DATE', 'CURC']);
    yield make('PARAM', k, name, {
      description: `${name} as captured on intake forms.`,
      dataType,
      displayType: options ? rng.pick(['SLCT', 'RDIO', 'CHCK']) : dataType === 'DATE' ? 'DATE' : 'TEXT',
      formatConstraint: dataType === 'CURC' ? 'currency' : dataType === 'NMBR' ? 'number' : 'none',
    });
    for (let o = 0; o < options; o++) {
      const label = `${name} option ${String.fromCharCode(65 + o)}`;
      yield make('POPT', k * 8 + o, label, {
        label,
        value: `${name.toLowerCase().replace(/\s+/g, '_')}_${o + 1}`,
        displayOrder: o + 1,
        isDefault: o === 0,
        isHidden: false,
        parameterID: id('PARAM', k),
      });
    }
  }

  // ---- Groups (hierarchy up to 5 levels) and categories (forms)
  // Groups 1..5 are a chain (five levels under a top-level group); the rest hang under a random shallower group.
  const levels: number[] = [];
  for (let g = 0; g < n.GROUP; g++) {
    let parent = -1;
    if (g >= 2 && g <= 5) parent = g - 1;
    else if (g > 5 && rng.chance(0.75)) {
      parent = rng.int(g);
      if (levels[parent]! >= 5) parent = -1;
    }
    levels.push(parent < 0 ? 1 : levels[parent]! + 1);
    const f: Record<string, unknown> = {
      description: g === 0 ? 'Default group of new users and objects.' : `${uniqueName(DEPARTMENTS, g - 1)} department.`,
      isActive: true,
    };
    if (parent >= 0) f.parentID = id('GROUP', parent);
    const paired = pairedCategory(plan, g);
    if (paired !== null) f.categoryID = id('CTGY', paired);
    else if (g > 0 && rng.chance(0.3)) setDefined(f, 'categoryID', form(2));
    yield make('GROUP', g, g === 0 ? 'Default Group' : uniqueName(DEPARTMENTS, g - 1), f);
  }
  let ctgypa = 0;
  let ctcsd = 0;
  for (let c = 0; c < n.CTGY; c++) {
    const code = CATEGORY_CODES[c % CATEGORY_CODES.length]!;
    const name = categoryName(c);
    const f: Record<string, unknown> = { description: `Custom form for ${code} objects.`, catObjCode: code, isActive: true };
    const paired = pairedGroup(plan, c);
    if (paired !== null) f.groupID = id('GROUP', paired);
    else if (rng.chance(0.5)) f.groupID = id('GROUP', rng.int(n.GROUP));
    yield make('CTGY', c, name, f);
    const fieldsOfForm = categoryFieldCount(plan, c);
    const firstField = ctgypa;
    const params = rng.distinct(n.PARAM, fieldsOfForm);
    for (const [o, param] of params.entries()) {
      const pf: Record<string, unknown> = {
        displayOrder: o + 1,
        isRequired: rng.chance(0.3),
        rowShared: rng.chance(0.2),
        categoryID: id('CTGY', c),
        parameterID: id('PARAM', param),
      };
      if (rng.chance(0.5)) pf.parameterGroupID = id('PGRP', rng.int(n.PGRP));
      yield make('CTGYPA', ctgypa++, `${name}: ${uniqueName(PARAMETERS, param)}`, pf);
    }
    for (let d = 0; d < displayLogicCount(plan, c); d++) {
      const driver = rng.int(fieldsOfForm);
      const field = uniqueName(PARAMETERS, params[driver]!);
      yield make('CTCSD', ctcsd++, `${name}: show details when ${field} is set`, {
        ruleType: rng.pick(['SHOW', 'HIDE', 'SKIP']),
        customExpression: `IF(ISBLANK({DE:${field}}),"hide","show")`,
        categoryID: id('CTGY', c),
        otherCategoryParameterID: ids.of('CTGYPA', firstField + driver),
      });
    }
  }
}
