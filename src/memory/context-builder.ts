import { countTokens } from 'gpt-tokenizer';
import { duplicateKey } from './duplicate-text.js';

/**
 * Builds the layer API's context string: one line per memory, best first, `[LAYER] content (score: 0.94)`,
 * within a token budget counted with a real tokenizer (gpt-tokenizer, o200k). A line that does not fit is
 * skipped and later, smaller lines are still tried, so token_count <= token_budget always holds. A memory
 * whose text duplicates one already in the context (`duplicateKey`: one remember's working entry and
 * episode, the same thing said twice) is left out, so the best-scored copy is kept and the budget is spent
 * on different memories.
 *
 * Counting is exact but done by parts: the tokenizer's pre-tokenizer always cuts at the space before
 * " (score:" and after the ")\n" that ends a line, so the tokens of the whole text are the sum of the tokens
 * of "[LAYER] content" (remembered per memory record, which the index shares between requests) and of
 * " (score: x.xx)" with or without its newline (one of 202 strings). A test checks the sum against counting
 * the whole text.
 */
export interface ContextItem {
  layer: string;
  content: string;
  score: number;
  /** The memory's stored record: the line's token count is remembered on it. */
  record?: object;
}

export interface BuiltContext {
  content: string;
  tokenCount: number;
  used: number;
}

const flatten = (text: string): string => text.replace(/\s+/g, ' ').trim();
const head = (item: ContextItem): string => `[${item.layer.toUpperCase()}] ${flatten(item.content)}`;
const tail = (score: number): string => ` (score: ${score.toFixed(2)})`;

export function contextLine(item: ContextItem): string {
  return head(item) + tail(item.score);
}

const headTokens = new WeakMap<object, Map<string, number>>();
const tailTokens = new Map<string, number>();

function headCost(item: ContextItem): number {
  const byLayer = item.record ? headTokens.get(item.record) : undefined;
  const known = byLayer?.get(item.layer);
  if (known !== undefined) return known;
  const count = countTokens(head(item));
  if (item.record) {
    const map = byLayer ?? new Map<string, number>();
    map.set(item.layer, count);
    if (!byLayer) headTokens.set(item.record, map);
  }
  return count;
}

function tailCost(score: number, newline: boolean): number {
  const text = tail(score) + (newline ? '\n' : '');
  let count = tailTokens.get(text);
  if (count === undefined) {
    count = countTokens(text);
    tailTokens.set(text, count);
  }
  return count;
}

const duplicateKeys = new WeakMap<object, string>();

function keyOf(item: ContextItem): string {
  const known = item.record ? duplicateKeys.get(item.record) : undefined;
  if (known !== undefined) return known;
  const key = duplicateKey(item.content);
  if (item.record) duplicateKeys.set(item.record, key);
  return key;
}

/** `items` best first: of duplicates, the first is kept. */
export function buildContext(items: ContextItem[], budget: number): BuiltContext {
  const lines: string[] = [];
  const said = new Set<string>();
  // Tokens of the chosen lines, each counted with the newline that follows it once another line comes.
  let withNewlines = 0;
  let lastNewline = 0;
  for (const item of items) {
    const key = keyOf(item);
    if (said.has(key)) continue;
    const headTokensOf = headCost(item);
    const asLast = headTokensOf + tailCost(item.score, false);
    // Appended as the last line: the previous last line gains its newline, which withNewlines already holds.
    if (withNewlines + asLast > budget) continue;
    const asMiddle = headTokensOf + tailCost(item.score, true);
    lines.push(contextLine(item));
    said.add(key);
    withNewlines += asMiddle;
    lastNewline = asMiddle - asLast;
  }
  return { content: lines.join('\n'), tokenCount: withNewlines - lastNewline, used: lines.length };
}
