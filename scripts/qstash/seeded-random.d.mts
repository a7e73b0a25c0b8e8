/** A seedable PRNG (mulberry32) in [0, 1): the same seed gives the same sequence. Not for secrets. */
export function seededRandom(seed: number): () => number;
