import type { ExtractedFact } from './fact-builder.js';
import type { Predicate } from './predicates.js';

/**
 * The built-in fact extractor: first-person patterns ("I prefer", "my name is", "I work at", "I live in",
 * "I use", ...) run on every remember, in microseconds, with no model. Each rule captures the phrase after
 * its trigger; the object is that phrase cut at punctuation or a clause boundary, without leading
 * articles, at most four words. At most one fact per predicate and text is kept (the first match).
 */
interface Rule {
  trigger: RegExp;
  predicate: Predicate;
  confidence: number;
  /** Words that end the object for this rule (besides the common clause boundaries). */
  stops?: RegExp;
}

const RULES: Rule[] = [
  { trigger: /\b(?:my name is|i am called|i'm called|call me)\s+/gi, predicate: 'is', confidence: 0.95 },
  {
    trigger: /\bi\s+(?:really\s+|strongly\s+|generally\s+|usually\s+|definitely\s+)?(?:prefer|favou?r)\s+/gi,
    predicate: 'prefers',
    confidence: 0.88,
    stops: /^(?:over|to|instead|rather|than)$/i,
  },
  {
    trigger: /\bi(?:'d|\s+would)\s+rather\s+(?:use\s+|have\s+)?/gi,
    predicate: 'prefers',
    confidence: 0.85,
    stops: /^(?:over|to|instead|than)$/i,
  },
  {
    trigger: /\bmy\s+favou?rite\s+[\p{L}\s]{1,30}?\s+(?:is|are)\s+/giu,
    predicate: 'prefers',
    confidence: 0.9,
  },
  { trigger: /\bi\s+(?:really\s+)?(?:like|love|enjoy|adore)\s+/gi, predicate: 'prefers', confidence: 0.8 },
  {
    trigger:
      /\bi\s+(?:really\s+)?(?:dislike|hate|detest|loathe|can't\s+stand|cannot\s+stand)\s+|\bi\s+(?:do\s+not|don't|dont)\s+(?:really\s+)?(?:like|enjoy|want)\s+/gi,
    predicate: 'dislikes',
    confidence: 0.85,
  },
  {
    trigger: /\bi\s+(?:mostly\s+|usually\s+|mainly\s+|always\s+)?use\s+|\bi(?:'m|\s+am)\s+using\s+/gi,
    predicate: 'uses',
    confidence: 0.82,
  },
  {
    trigger:
      /\bi\s+(?:currently\s+)?work\s+(?:at|for)\s+|\bi(?:'m|\s+am)\s+(?:employed|working)\s+(?:at|for|by)\s+/gi,
    predicate: 'works_at',
    confidence: 0.88,
  },
  {
    trigger: /\bi(?:'m|\s+am)?\s+(?:currently\s+)?work(?:ing)?\s+on\s+/gi,
    predicate: 'works_on',
    confidence: 0.82,
  },
  {
    trigger:
      /\bi\s+(?:currently\s+)?live\s+in\s+|\bi(?:'m|\s+am)\s+(?:based|located|living)\s+in\s+|\bi\s+(?:just\s+)?moved\s+to\s+/gi,
    predicate: 'located_in',
    confidence: 0.9,
  },
  { trigger: /\bi(?:'m|\s+am)\s+(?:a|an)\s+/gi, predicate: 'is_a', confidence: 0.8 },
  {
    trigger: /\bi\s+(?:have|own)\s+(?=(?:a|an|two|three|four|five|\d+)\s)/gi,
    predicate: 'has',
    confidence: 0.75,
  },
  { trigger: /\bi\s+(?:know|speak)\s+/gi, predicate: 'knows', confidence: 0.7 },
  { trigger: /\bi\s+(?:need|require)\s+/gi, predicate: 'requires', confidence: 0.7 },
];

/** Words that end an object: a new clause or a time phrase starts. */
const CLAUSE_STOP =
  /^(?:and|but|because|so|since|when|while|which|who|that|if|though|although|whereas|or|as|like|such|including|especially|every|each|daily|now|today|currently|usually|always|nowadays|lately|anymore|too|either)$/i;
/** Objects may not start with these: "I like to ...", "I need it", "I know that ...". */
const BAD_START =
  /^(?:to|it|this|that|these|those|them|him|her|you|what|how|why|when|where|who|been|had|got|not|never|no|just|already|about|so|very|much)$/i;
const LEADING_DETERMINER = /^(?:a|an|the|my|our|some|more|really)$/i;
const MAX_OBJECT_WORDS = 4;

function objectAfter(text: string, start: number, stops?: RegExp): string | undefined {
  const rest = text.slice(start).split(/[.,!?;:\n()"“”]/)[0] ?? '';
  const words: string[] = [];
  for (const raw of rest.trim().split(/\s+/)) {
    const word = raw.replace(/^['‘’]+|['‘’]+$/g, '');
    if (word === '') continue;
    if (words.length === 0 && LEADING_DETERMINER.test(word)) continue;
    if (CLAUSE_STOP.test(word) || stops?.test(word)) break;
    words.push(word);
    if (words.length === MAX_OBJECT_WORDS) break;
  }
  if (words.length === 0 || BAD_START.test(words[0] as string)) return undefined;
  return words.join(' ');
}

export function extractFacts(text: string): ExtractedFact[] {
  const facts: ExtractedFact[] = [];
  const seen = new Set<string>();
  for (const rule of RULES) {
    if (seen.has(rule.predicate)) continue;
    rule.trigger.lastIndex = 0;
    for (const match of text.matchAll(rule.trigger)) {
      const object = objectAfter(text, match.index + match[0].length, rule.stops);
      if (!object) continue;
      facts.push({ subject: 'user', predicate: rule.predicate, object, confidence: rule.confidence });
      seen.add(rule.predicate);
      break;
    }
  }
  return facts;
}
