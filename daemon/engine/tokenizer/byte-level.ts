// GPT-2 style byte-level encoding: every byte maps to one printable Unicode character, so BPE
// vocabularies (Llama 3's included) spell tokens in these characters ("Ġ" is a space, "Ċ" a newline).

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Array<string>(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    map[b] = String.fromCharCode(printable.includes(b) ? b : next++);
  }
  return map;
}

export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

/** The byte-level spelling of a piece of text. */
export function textToByteChars(text: string): string {
  let out = '';
  for (const byte of utf8.encode(text)) out += BYTE_TO_CHAR[byte];
  return out;
}

/** Writes the bytes a byte-level token spells at out[at...] and returns their count, or -1 (out
 * partly written) if the token holds a character outside the byte alphabet. */
export function byteCharsInto(token: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < token.length; i++) {
    const b = CHAR_TO_BYTE.get(token[i]!);
    if (b === undefined) return -1;
    out[at + i] = b;
  }
  return token.length;
}
