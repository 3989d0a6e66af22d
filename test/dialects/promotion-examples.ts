/**
 * The request and response examples of reference 003 (Environment
 * Promotion API), as the document prints them, and a shape check: an answer
 * has the documented shape when it has every key an example shows, with a
 * value of the same JSON type (`null` in an example allows anything; a `*`
 * key stands for every key of a map keyed by ids or objCodes; `...` entries
 * are the document's elisions).
 */
import assert from 'node:assert/strict';

export const createBody = {
  name: 'Agency Onboarding - 2023-06-06',
  description: 'This promotion package contains configuration to support the agency onboarding processes...',
  source: 'https://{domain}.{environment}.workfront.com',
  objectCollections: [
    { objCode: 'PROJ', entities: [{ ID: '6419b8b9001151ee258921a4f7597ba1', name: 'Agency Request' }] },
    {
      objCode: 'TMPL',
      entities: [
        { ID: '6419b8b9001151ee258921a4f7597bb2', name: 'New Agency Onboarding' },
        { ID: '6419b8b9001151ee258921a4f7597bc3', name: 'New Agency Offboarding' },
      ],
    },
    { objCode: 'PTLTAB', entities: [{ ID: '645e6435000b4aaebe4776f4a42ed5ad', name: 'Agency Performance and Readiness' }] },
  ],
};

/** 003 "Create a package" response (its closing brace restored). */
export const packageResponse = {
  data: {
    id: '1d5693b9-b7b5-492d-8219-c21f34bcaca6',
    name: 'Agency Onboarding - 2023-06-06',
    description: 'This promotion package contains configuration to support the agency onboarding processes...',
    status: 'ASSEMBLING',
    version: 1,
    installationCounts: {},
    createdAt: '2023-06-06T17:29:21.600Z',
    createdById: '61aa9d0e0005fcee8f212835bdaa2619',
    publishedAt: null,
    customerId: '61aa9d090005fa42152c1cb66659f38d',
  },
};

export const listResponse = { data: [packageResponse.data] };

export const displayEntities = { '*': [{ id: '52aa9d0e0005fcee8f212835bdaa2691', name: 'Default Group', description: null }] };

export const packageWithDisplay = { data: { ...packageResponse.data, status: 'DRAFT', displayEntities } };

export const definitionResponse = {
  packageEntities: {
    '*': [{ id: '52aa9d0e0005fcee8f212835bdaa2691', name: 'Default Group' }],
  },
};

/** 003 "Replace package details and definition" body; `packageEntities` is filled with the package's own definition. */
export const replaceBody = {
  name: 'Agency Onboarding - 2023-06-06',
  description: 'This promotion package contains configuration to support the agency onboarding processes... with a description change',
  source: 'https://{domain}.{environment}.workfront.com',
  status: 'TESTING',
  version: 1,
  metadata: {
    displayOrder: ['GROUP', 'ROLE', 'TMPL', 'PROJ', 'PTLTAB'],
    historyOrder: ['GROUP', 'ROLE', 'TMPL', 'TTSK', 'PROJ', 'PTLTAB'],
    installOrder: ['GROUP', 'ROLE', 'TMPL', 'TTSK', 'TPRED', 'TASSGN', 'PROJ', 'QUED', 'RRUL', 'QUET', 'UIFT', 'UIGB', 'UIVW', 'PTLTAB'],
    summaryOrder: ['GROUP', 'ROLE', 'TMPL'],
    shapeVersion: 2,
  },
  packageEntities: {} as Record<string, unknown[]>,
};

export const updateBody = { status: 'ACTIVE' };

const record = { name: 'Default Group', action: 'USEEXISTING', isValid: true };

/** 003 "Execute a pre-run" response (no `data` envelope). */
export const prerunResponse = {
  environmentPromotionPackageId: '45f2ae94-76c0-4b13-8f3b-f688de83043d',
  environmentPromotionPackageVersion: 1,
  id: 'c0bc79bd-c9c1-4b5b-b118-b1241392de0e',
  userId: '5ba38da500b752fd66439d4f6a9999a1',
  customerId: '5ba38d9d00b74f0c7a38b1b487fc9710',
  status: 'PREPARING',
  environment: 'mmi.my.workfront.com',
  registeredAt: '2023-10-19T20:00:16.697Z',
  updatedAt: '2023-10-19T20:00:16.701Z',
  translationMap: { '*': { '*': record } },
};

/** 003 "Get the installation details" response, and each item of "Get a list of installations". */
export const installationRecord = {
  id: '2892b936-e09e-455a-935f-e1462ab9753c',
  environmentPromotionPackageId: '4fae2b9d-d315-45f4-909f-a0c0d79fc65d',
  environmentPromotionPackageVersion: 1,
  userId: '8fbbc5bcf4f94a5b862483ee05573e73',
  customerId: '54286d78b064451096752b99bf968481',
  status: 'COMPLETED',
  environment: 'https://{domain}.{environment}.workfront.com',
  registeredAt: '2021-03-16T02:21:31.908Z',
  updatedAt: null,
  translationMap: { '*': { '*': record } },
};

/** Assert that `actual` has the shape of a 003 example (see the file comment). */
export function assertShape(actual: unknown, example: unknown, path = '$'): void {
  if (example === null) return;
  if (Array.isArray(example)) {
    assert.ok(Array.isArray(actual), `${path} should be an array, got ${JSON.stringify(actual)?.slice(0, 200)}`);
    if (example.length > 0) for (const [i, item] of actual.entries()) assertShape(item, example[0], `${path}[${i}]`);
    return;
  }
  if (typeof example === 'object') {
    assert.ok(
      actual !== null && typeof actual === 'object' && !Array.isArray(actual),
      `${path} should be an object, got ${JSON.stringify(actual)?.slice(0, 200)}`,
    );
    const a = actual as Record<string, unknown>;
    for (const [k, v] of Object.entries(example)) {
      if (k === '*') for (const [ak, av] of Object.entries(a)) assertShape(av, v, `${path}.${ak}`);
      else {
        assert.ok(k in a, `${path}.${k} is missing (has ${Object.keys(a).join(', ')})`);
        assertShape(a[k], v, `${path}.${k}`);
      }
    }
    return;
  }
  assert.equal(typeof actual, typeof example, `${path} should be a ${typeof example}, got ${JSON.stringify(actual)}`);
}

/** 003's error shape as Ferry answers it: `{"error": {"class", "message", "code"}}`. */
export function assertError(res: { status: number; json: any; text: string }, status: number, message?: RegExp): void {
  assert.equal(res.status, status, res.text);
  assertShape(res.json, { error: { class: 'com.attask.common.Exception', message: 'text', code: 'CODE' } });
  assert.match(res.json.error.class, /^com\.attask\.common\.\w+Exception$/);
  if (message) assert.match(res.json.error.message, message);
}
