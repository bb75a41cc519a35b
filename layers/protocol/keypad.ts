/**
 * One key of a phone keypad: the only value a `dtmf` frame or a keypad map may carry. Anything else (an object
 * property name such as `constructor` or `__proto__`, several keys, a letter) is refused where it enters. Its own
 * module, free of dependencies, because the use-case schema in layers/data checks keypad maps with it too.
 */
export const DTMF_KEY = /^[0-9*#]$/;
export const DTMF_KEY_MESSAGE = 'keypad digits are 0-9, * and #';
