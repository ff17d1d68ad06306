import { countTokens } from 'gpt-tokenizer';

/**
 * Builds the layer API's context string: one line per memory, best first, `[LAYER] content (score: 0.94)`,
 * within a token budget counted with a real tokenizer (gpt-tokenizer, o200k). A line that does not fit is
 * skipped and later, smaller lines are still tried; the final text is re-counted and trimmed from the end
 * until it fits, so token_count <= token_budget always holds.
 */
export interface ContextItem {
  layer: string;
  content: string;
  score: number;
}

export interface BuiltContext {
  content: string;
  tokenCount: number;
  used: number;
}

export function contextLine(item: ContextItem): string {
  const text = item.content.replace(/\s+/g, ' ').trim();
  return `[${item.layer.toUpperCase()}] ${text} (score: ${item.score.toFixed(2)})`;
}

export function buildContext(items: ContextItem[], budget: number): BuiltContext {
  const lines: string[] = [];
  let estimate = 0;
  for (const item of items) {
    const line = contextLine(item);
    const cost = countTokens(line) + (lines.length > 0 ? 1 : 0);
    if (estimate + cost > budget) continue;
    lines.push(line);
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
