// The Elasticsearch/OpenSearch sink: `_bulk` bodies over the shared HTTP target.
import type { Context, OpenedOutput } from '../../component.js';
import { bulkOutput } from '../sink/bulk.js';
import { httpClient } from '../sink/http.js';
import { bulkUrl } from '../sink/http-check.js';
import type { ElasticOptions } from './index.js';
import { sinkContext } from '../sink/writer.js';

export async function openElastic(ctx: Context<ElasticOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const output = bulkOutput({
    name: 'elastic',
    action: 'create',
    index: s.elasticOutputIndex,
    url: bulkUrl(new URL(s.elasticOutputEndpoint.trim())), // check() vetted it
    authHint: 'the user:password@ of --elasticOutputEndpoint, and that the user may write to the index',
    client: httpClient({ caPath: s.elasticCACertificatePath, skipTlsVerify: ctx.run.skipTlsVerify }),
    batchSize: s.elasticBatchSize,
    delayMs: s.elasticBatchDelay,
    ...sinkContext(ctx),
  });
  return { output };
}
