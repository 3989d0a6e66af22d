import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerMetrics } from '../../src/server/metrics.js';
import type { OperationsStore } from '../../src/store/operations-store.js';

const noOperations = { countByKindAndStatus: () => Promise.resolve([]) } as unknown as OperationsStore;

describe('ServerMetrics', () => {
  it('counts requests by method, route and status, from the duration histogram, however many scrapes run at once', async () => {
    const metrics = new ServerMetrics(noOperations);
    for (let i = 0; i < 3; i++) metrics.observeRequest('GET', '/api/v1/operations/:id', 200, 0.001);
    metrics.observeRequest('POST', '/api/v1/packages', 202, 0.02);
    const scrapes = await Promise.all([metrics.registry.metrics(), metrics.registry.metrics(), metrics.registry.metrics()]);
    for (const text of [...scrapes, await metrics.registry.metrics()]) {
      assert.match(text, /^ferry_http_requests_total\{method="GET",route="\/api\/v1\/operations\/:id",status="200"\} 3$/m);
      assert.match(text, /^ferry_http_requests_total\{method="POST",route="\/api\/v1\/packages",status="202"\} 1$/m);
      assert.match(text, /^ferry_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/operations\/:id",status="200"\} 3$/m);
      assert.match(text, /^ferry_http_request_duration_seconds_bucket\{le="0.025",method="POST",route="\/api\/v1\/packages",status="202"\} 1$/m);
    }
  });
});
