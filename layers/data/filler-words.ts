/** Filler words a recogniser adds or drops between a partial and the final transcript (the default match rule). */
export const DEFAULT_FILLER_WORDS = ['um', 'umm', 'uh', 'uhh', 'er', 'erm', 'ah', 'hmm', 'mm'];
