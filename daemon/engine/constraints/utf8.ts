// UTF-8 facts constrained decoding needs: a token may end, or start, inside a character.

/** How many bytes at the end begin a UTF-8 character that is not complete. */
export function incompleteTail(b: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const byte = b[b.length - back]!;
    if (isContinuationByte(byte)) continue; // look further back
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

export const isContinuationByte = (b: number) => (b & 0xc0) === 0x80;
