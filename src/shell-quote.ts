/**
 * Quoting for the commands avsctl prints for a user to paste (`next:` lines, hints), so a path
 * with a space or a quote in it still works: a word holding anything beyond a safe set is
 * wrapped in single quotes, which POSIX sh, bash and zsh all read literally.
 *
 * @example
 * shellQuote("Bad Name")          // 'Bad Name'
 * shellQuote("x", {always: true})  // 'x'
 * shellCommand(["cd", "it's"])    // cd 'it'\''s'
 */
export function shellQuote(word: string, opts: { always?: boolean } = {}): string {
  if (!opts.always && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/** A command line from its words, each quoted when it needs to be. */
export function shellCommand(words: readonly string[]): string {
  return words.map((w) => shellQuote(w)).join(" ");
}
