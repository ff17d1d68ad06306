import type { ExtractedFact } from './fact-builder.js';
import { isPredicate } from './predicates.js';

/**
 * Fact extraction with any OpenAI-compatible chat completions endpoint. Runs in a background job (see
 * src/jobs), never on the request path; errors propagate so the job retries and, finally, records the
 * failure as an event.
 */
export interface LlmExtractorOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
}

const INSTRUCTIONS = `Extract durable facts about the user from the message.
Answer with JSON only: {"facts":[{"subject":"user","predicate":"<one of: is, is_a, prefers, dislikes, uses, works_on, works_at, located_in, belongs_to, knows, has, requires, related_to>","object":"<short phrase>","confidence":<0.5-1>}]}
Only include facts stated or clearly implied; objects are at most six words; answer {"facts":[]} when there are none.`;

interface ChatResponse {
  choices?: { message?: { content?: string } }[];
}

export class LlmExtractor {
  constructor(private readonly options: LlmExtractorOptions) {}

  async extract(text: string): Promise<ExtractedFact[]> {
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: this.options.model,
        temperature: 0,
        max_tokens: 512,
        response_format: { type: 'json_object' },
        messages: [
          { role: 'system', content: INSTRUCTIONS },
          { role: 'user', content: text },
        ],
      }),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (!response.ok)
      throw new Error(`extractor answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const body = (await response.json()) as ChatResponse;
    return parseFacts(body.choices?.[0]?.message?.content ?? '');
  }
}

/** Parses the model's answer; tolerates code fences; rejects anything that is not the agreed shape. */
export function parseFacts(answer: string): ExtractedFact[] {
  const json = answer.replace(/^\s*```(?:json)?/i, '').replace(/```\s*$/, '');
  const parsed = JSON.parse(json) as { facts?: unknown };
  if (!Array.isArray(parsed.facts)) throw new Error('extractor answer has no "facts" array');
  const facts: ExtractedFact[] = [];
  for (const item of parsed.facts as Record<string, unknown>[]) {
    const predicate = typeof item.predicate === 'string' ? item.predicate.toLowerCase() : '';
    const object = typeof item.object === 'string' ? item.object.trim().slice(0, 200) : '';
    if (!isPredicate(predicate) || object === '') continue;
    const subject =
      typeof item.subject === 'string' && item.subject.trim() ? item.subject.trim().slice(0, 100) : 'user';
    const confidence = typeof item.confidence === 'number' ? Math.min(1, Math.max(0, item.confidence)) : 0.7;
    facts.push({ subject, predicate, object, confidence });
  }
  return facts;
}
