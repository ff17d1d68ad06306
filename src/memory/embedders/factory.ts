import type { Config } from '../../config.js';
import { BuiltinEmbedder } from './builtin.js';
import type { Embedder } from './embedder.js';
import { OfflineEmbedder } from './offline.js';
import { OpenAiEmbedder } from './openai.js';

/** Picks the embedder named by MNEMO_EMBEDDER. */
export async function createEmbedder(
  config: Pick<Config, 'embedder' | 'embeddingUrl' | 'embeddingModel' | 'embeddingApiKey' | 'embeddingDim'>,
): Promise<Embedder> {
  switch (config.embedder) {
    case 'builtin':
      return new BuiltinEmbedder();
    case 'offline':
      return OfflineEmbedder.start();
    case 'openai':
      return new OpenAiEmbedder({
        baseUrl: config.embeddingUrl ?? '',
        model: config.embeddingModel,
        dim: config.embeddingDim,
        timeoutMs: 30_000,
        ...(config.embeddingApiKey ? { apiKey: config.embeddingApiKey } : {}),
      });
  }
}
