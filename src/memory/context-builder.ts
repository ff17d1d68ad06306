import { countTokens } from 'gpt-tokenizer';

/**
 * Builds the layer API's context string: one line per memory, best first, `[LAYER] content (score: 0.94)`,
 * within a token budget counted with a real tokenizer (gpt-tokenizer, o200k). A line that does not fit is
 * skipped and later, smaller lines are still tried; the final text is counted exactly and trimmed from the
 * end until it fits, so token_count <= token_budget always holds.
 *
 * Counting is the costly part, so a line's cost is estimated from its content's token count (kept per
 * memory record, which the index shares between requests) plus the fixed cost of the decoration; only the
 * final text is counted in full.
 */
export interface ContextItem {
  layer: string;
  content: string;
  score: number;
  /** The memory's stored record: the content's token count is remembered on it. */
  record?: object;
}

export interface BuiltContext {
  content: string;
  tokenCount: number;
  used: number;
}

export function contextLine(item: ContextItem): string {
  return `[${item.layer.toUpperCase()}] ${flatten(item.content)} (score: ${item.score.toFixed(2)})`;
}

const flatten = (text: string): string => text.replace(/\s+/g, ' ').trim();

const contentTokens = new WeakMap<object, number>();
const decorationTokens = new Map<string, number>();

/** Estimated tokens of a line: its content's tokens plus its decoration's, plus one for the newline. */
function lineCost(item: ContextItem): number {
  let content = item.record ? contentTokens.get(item.record) : undefined;
  if (content === undefined) {
    content = countTokens(flatten(item.content));
    if (item.record) contentTokens.set(item.record, content);
  }
  let decoration = decorationTokens.get(item.layer);
  if (decoration === undefined) {
    decoration = countTokens(`[${item.layer.toUpperCase()}]  (score: 0.00)`);
    decorationTokens.set(item.layer, decoration);
  }
  return content + decoration + 1;
}

export function buildContext(items: ContextItem[], budget: number): BuiltContext {
  const lines: string[] = [];
  let estimate = 0;
  for (const item of items) {
    const cost = lineCost(item);
    if (estimate + cost > budget) continue;
    lines.push(contextLine(item));
    estimate += cost;
  }
  let content = lines.join('\n');
  let tokenCount = countTokens(content);
  while (tokenCount > budget && lines.length > 0) {
    lines.pop();
    content = lines.join('\n');
    tokenCount = countTokens(content);
  }
  return { content, tokenCount, used: lines.length };
}
