/**
 * Deterministic synthetic memories and queries for load tests: sentences drawn from a Zipf-distributed
 * vocabulary of 20,000 words (a head of real English words, then generated ones), so postings lists look
 * like real text: a few very common words, a long tail. One memory in ten is a first-person fact, so
 * extraction runs too. Same seed, same corpus.
 */
const HEAD_WORDS = `project deploy database migration user customer invoice payment order shipping warehouse
python rust java typescript service server client request response latency cache memory agent model
prompt token context budget search index vector embedding document note meeting calendar email phone
team manager engineer designer product feature release bug ticket incident alert monitor dashboard
metric report review budget forecast revenue quarter contract vendor supplier price discount account
login password session permission role admin policy audit backup restore cluster node region cloud
kubernetes docker container pipeline build test coverage lint format commit branch merge review
travel flight hotel booking trip vacation family birthday dinner restaurant recipe coffee tea garden
music concert guitar piano painting photo camera hiking running cycling swimming yoga doctor health
school course lecture exam homework library book novel author chapter story movie series actor
weather rain snow summer winter spring autumn morning evening weekend holiday city country river
mountain beach park museum gallery market store shop grocery car bike train bus station airport
green blue red fast slow large small new old early late urgent important weekly daily monthly
analysis strategy roadmap launch campaign marketing sales support onboarding feedback survey quality
security compliance privacy encryption certificate domain network firewall gateway proxy router
schema table column query transaction replica shard partition queue worker job scheduler retry
error warning failure timeout outage recovery rollback hotfix patch upgrade version dependency
library framework plugin module package config setting option flag environment variable secret
writes reads remembers prefers likes avoids needs plans schedules moves visits calls sends fixes
improves reviews tracks measures ships builds tests deploys monitors answers explains asks finds`
  .split(/\s+/)
  .filter(Boolean);

const VOCABULARY_SIZE = 20_000;
const SYLLABLES =
  'ka lo mi ra ten vos dun pel sar qui bor fen gal hum jor lek mun nor pix rus tal vek wim zor'.split(' ');

/** The head words, then deterministic pseudo-words made of three or four syllables. */
function vocabulary(): string[] {
  const words = [...HEAD_WORDS];
  const seen = new Set(words);
  for (let i = 0; words.length < VOCABULARY_SIZE; i++) {
    let n = i;
    let word = '';
    for (let s = 0; s < 3 + (i % 2); s++) {
      word += SYLLABLES[n % SYLLABLES.length];
      n = Math.floor(n / SYLLABLES.length) + s * 7;
    }
    if (!seen.has(word)) {
      seen.add(word);
      words.push(word);
    }
  }
  return words;
}

const WORDS = vocabulary();

const FACT_TEMPLATES = [
  (w: string) => `I prefer ${w} over everything else`,
  (w: string) => `I use ${w} every day`,
  (w: string) => `I live in ${w} city`,
  (w: string) => `I work at ${w} labs`,
  (w: string) => `My favorite thing is ${w}`,
];

/** mulberry32: a small, fast, seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Corpus {
  private readonly random: () => number;
  private readonly cumulative: Float64Array;

  constructor(seed = 42) {
    this.random = prng(seed);
    this.cumulative = new Float64Array(WORDS.length);
    let sum = 0;
    for (let i = 0; i < WORDS.length; i++) {
      // Offset ranks: the very top of natural text are stop words, which the index drops anyway.
      sum += 1 / (i + 30) ** 1.05;
      this.cumulative[i] = sum;
    }
    for (let i = 0; i < WORDS.length; i++) this.cumulative[i] = (this.cumulative[i] as number) / sum;
  }

  word(): string {
    const r = this.random();
    let lo = 0;
    let hi = WORDS.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumulative[mid] as number) < r) lo = mid + 1;
      else hi = mid;
    }
    return WORDS[lo] as string;
  }

  /** A memory of 8–30 words; every tenth is a first-person fact. */
  memory(i: number): string {
    if (i % 10 === 0)
      return (FACT_TEMPLATES[(i / 10) % FACT_TEMPLATES.length] as (w: string) => string)(this.word());
    const length = 8 + Math.floor(this.random() * 23);
    return Array.from({ length }, () => this.word()).join(' ');
  }

  /** A query of 2–5 words, unique per call (a serial number keeps the recall cache out of the way). */
  query(i: number): string {
    const length = 2 + Math.floor(this.random() * 4);
    return `${Array.from({ length }, () => this.word()).join(' ')} q${i}`;
  }
}
