// The ZincSearch sink: bulk bodies with basic auth over the shared HTTP target. Zinc's
// /api/_bulk answers {"record_count": n}; its /es/_bulk answers per item as Elasticsearch does:
// both are read (see ../sink/bulk.ts).
import type { Context, OpenedOutput } from '../../component.js';
import { bulkOutput } from '../sink/bulk.js';
import { basicAuth, httpClient } from '../sink/http.js';
import { bulkUrl, withPath } from '../sink/http-check.js';
import type { ZincOptions } from './index.js';
import { sinkContext } from '../sink/writer.js';

export async function openZinc(ctx: Context<ZincOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const output = bulkOutput({
    name: 'zinc',
    action: 'index',
    index: s.zincOutputIndex,
    url: bulkUrl(withPath(new URL(s.zincOutputEndpoint.trim()), '/api/_bulk')), // check() vetted it
    headers: { authorization: basicAuth(s.zincOutputUsername, s.zincOutputPassword) },
    authHint: '--zincOutputUsername and --zincOutputPassword',
    client: httpClient({ timeoutMs: s.zincTimeout, caPath: s.zincCACertificatePath, skipTlsVerify: ctx.run.skipTlsVerify }),
    batchSize: s.zincBatchSize,
    delayMs: s.zincBatchDelay,
    ...sinkContext(ctx),
  });
  return { output };
}
