/**
 * Fact predicates: the reference library's FactRelation values, plus works_at (employment is its own
 * single-valued relation rather than a generic belongs_to).
 */
export const PREDICATES = [
  'prefers',
  'dislikes',
  'is',
  'is_a',
  'has',
  'has_property',
  'knows',
  'uses',
  'works_on',
  'works_at',
  'located_in',
  'belongs_to',
  'related_to',
  'requires',
  'learned_from',
  'custom',
] as const;

export type Predicate = (typeof PREDICATES)[number];

export const isPredicate = (value: string): value is Predicate =>
  (PREDICATES as readonly string[]).includes(value);

/** Predicates with one value per subject at a time: a new value supersedes the old fact. */
export const SINGLE_VALUED: ReadonlySet<Predicate> = new Set(['is', 'located_in', 'works_at']);

/** Preference predicates: a new value for the same target supersedes, and so does the opposite polarity. */
export const PREFERENCE: ReadonlySet<Predicate> = new Set(['prefers', 'dislikes']);

/**
 * Words a question about each relation tends to use ("where does she live" for located_in), added to a
 * fact's search text so lexical search finds "user located_in Paris" without a semantic model.
 */
export const PREDICATE_GLOSS: Record<Predicate, string> = {
  prefers: 'prefers likes favorite preference loves enjoys',
  dislikes: 'dislikes hates avoids does not like',
  is: 'is name called',
  is_a: 'is a works as role job profession',
  has: 'has owns',
  has_property: 'has property',
  knows: 'knows speaks familiar',
  uses: 'uses using tool',
  works_on: 'works on working project',
  works_at: 'works at employer company job employed',
  located_in: 'lives in located based location city home',
  belongs_to: 'belongs to member of',
  related_to: 'related to',
  requires: 'needs requires',
  learned_from: 'learned from',
  custom: '',
};
