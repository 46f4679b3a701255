/**
 * The benchmark's static data: 6 users, 9 products, 11 reviews whose bodies run from 150 to
 * 850 characters. Deterministic (a fixed word list and a seeded generator), so every run and
 * every gateway sees the same bytes.
 */

export interface User {
  readonly id: string;
  readonly name: string;
  readonly username: string;
  readonly birthday: number;
}

export interface Product {
  readonly upc: string;
  readonly name: string;
  readonly price: number;
  readonly weight: number;
}

export interface Review {
  readonly id: string;
  readonly body: string;
  readonly authorId: string;
  readonly productUpc: string;
}

export const users: readonly User[] = [
  { id: '1', name: 'Ada Lovelace', username: '@ada', birthday: 1815_12_10 },
  { id: '2', name: 'Alan Turing', username: '@complete', birthday: 1912_06_23 },
  { id: '3', name: 'Grace Hopper', username: '@grace', birthday: 1906_12_09 },
  { id: '4', name: 'Edsger Dijkstra', username: '@ewd', birthday: 1930_05_11 },
  { id: '5', name: 'Barbara Liskov', username: '@liskov', birthday: 1939_11_07 },
  { id: '6', name: 'Donald Knuth', username: '@taocp', birthday: 1938_01_10 },
];

export const products: readonly Product[] = [
  { upc: '1', name: 'Table', price: 899, weight: 100 },
  { upc: '2', name: 'Couch', price: 1299, weight: 1000 },
  { upc: '3', name: 'Chair', price: 54, weight: 50 },
  { upc: '4', name: 'Lamp', price: 35, weight: 5 },
  { upc: '5', name: 'Rug', price: 120, weight: 20 },
  { upc: '6', name: 'Bookcase', price: 249, weight: 70 },
  { upc: '7', name: 'Desk', price: 499, weight: 60 },
  { upc: '8', name: 'Mirror', price: 89, weight: 12 },
  { upc: '9', name: 'Stool', price: 39, weight: 7 },
];

const words = (
  'solid sturdy simple bright heavy light warm honest elegant plain useful quiet clever modest ' +
  'the a of and with for it is was but not very quite rather really after before during while ' +
  'table couch chair lamp rug desk shelf room light wood oak pine metal fabric colour finish ' +
  'delivery assembly instructions screws legs cushion seat back arm drawer surface edge corner ' +
  'bought returned kept assembled moved cleaned painted noticed expected recommend would again ' +
  'family friends guests evening morning weekend year month week price value quality design'
).split(' ');

/** A deterministic pseudo-random generator (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sentences of the word list, cut to exactly `length` characters and ending with a full stop. */
function body(seed: number, length: number): string {
  const random = seeded(seed);
  let text = '';
  let sentenceStart = true;
  while (text.length < length) {
    let word = words[Math.floor(random() * words.length)]!;
    if (sentenceStart) word = word[0]!.toUpperCase() + word.slice(1);
    sentenceStart = random() < 0.12;
    text += word + (sentenceStart ? '. ' : ' ');
  }
  return `${text
    .slice(0, length - 1)
    .trimEnd()
    .padEnd(length - 1, 'x')}.`;
}

/** Review body lengths: spread over 150–850 characters. */
const bodyLengths = [150, 850, 780, 840, 700, 820, 690, 830, 760, 850, 650];
/** [authorId, productUpc] per review. */
const links: readonly (readonly [string, string])[] = [
  ['1', '1'],
  ['1', '2'],
  ['2', '3'],
  ['2', '1'],
  ['3', '3'],
  ['3', '4'],
  ['4', '5'],
  ['4', '2'],
  ['5', '6'],
  ['6', '7'],
  ['5', '1'],
];

export const reviews: readonly Review[] = links.map(([authorId, productUpc], i) => ({
  id: String(i + 1),
  body: body(i + 1, bodyLengths[i]!),
  authorId,
  productUpc,
}));
