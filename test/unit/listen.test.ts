// One listen for the gateway's port and the metrics port: the bound URL, and a bind that fails
// says which setting to change.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { listen, ListenError } from '../../src/http/listen.js';
import { startMetricsServer } from '../../src/observability/metricsEndpoint.js';

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('listen', () => {
  test('answers the URL with the port actually bound; the unspecified address is reached on 127.0.0.1', async () => {
    const server = createServer();
    const url = await listen(server, 0, '0.0.0.0');
    try {
      assert.equal(url, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      await close(server);
    }
  });

  test('the metrics listener on a port in use fails with a ListenError naming METRICS_PORT', async () => {
    const holder = createServer();
    await listen(holder, 0, '127.0.0.1');
    const { port } = holder.address() as AddressInfo;
    try {
      const started = startMetricsServer({ route: async () => new Response('x'), port, host: '127.0.0.1' });
      await assert.rejects(started, (error: unknown) => {
        assert.ok(error instanceof ListenError, String(error));
        assert.equal(
          error.message,
          `127.0.0.1:${port} is already in use: stop what holds it, or set METRICS_PORT (and METRICS_HOST) to another address`,
        );
        return true;
      });
    } finally {
      await close(holder);
    }
  });
});
