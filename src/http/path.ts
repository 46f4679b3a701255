/**
 * A URL whose path can be read off the text: http(s), a plain host (and port), and a path of
 * segments of unreserved characters only (letters, digits, `-`, `_`, `~`: nothing a URL parser
 * would percent-encode, decode or resolve, no `.` or `..` segment, no empty segment, no `\`).
 */
const plainUrl = /^https?:\/\/[A-Za-z0-9.:[\]-]+((?:\/[A-Za-z0-9_~-]+)*\/?)(?:[?#]|$)/;

/**
 * The pathname of an absolute request URL, as `new URL(url).pathname` gives it. A plain URL (the
 * usual `https://host/graphql?…`) is read without parsing: on Workers every request's URL would
 * otherwise be parsed here and again by the runtime. Anything else is parsed.
 *
 * @example pathOf('https://gw.example.com/graphql?x=1') // '/graphql'
 */
export function pathOf(url: string): string {
  const plain = plainUrl.exec(url);
  if (plain) return plain[1] || '/';
  return new URL(url).pathname;
}
