// A streaming GGUF v3 writer: header, metadata, tensor records, then aligned tensor data produced
// chunk by chunk, so files larger than memory (the 1.2 GB 2B4T shape) can be written.
import { closeSync, openSync, writeSync } from 'node:fs';

export type MetaValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'f32[]'; value: ArrayLike<number> }
  | { type: 'i32[]'; value: ArrayLike<number> };

export type TensorType = 'F32' | 'F16' | 'I2_S';

export interface TensorSpec {
  name: string;
  type: TensorType;
  /** ggml order: shape[0] is the contiguous dimension. */
  shape: number[];
  /** Produces exactly tensorBytes(type, shape) bytes. */
  data: () => Iterable<Uint8Array>;
}

const TYPE_ID: Record<TensorType, number> = { F32: 0, F16: 1, I2_S: 36 };
const VALUE_TYPE = { u8: 0, i32: 5, u32: 4, f32: 6, bool: 7, string: 8, array: 9 } as const;

export function tensorBytes(type: TensorType, shape: number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (type === 'F32') return n * 4;
  if (type === 'F16') return n * 2;
  return n / 4 + 32; // 2-bit codes then a 32-byte trailer whose first 4 bytes are the f32 scale
}

/** Little-endian byte builder for the header. */
class Bytes {
  private chunks: Buffer[] = [];
  length = 0;
  private push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  u8(v: number): void {
    this.push(Buffer.from([v]));
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  raw(b: Buffer): void {
    this.push(b);
  }
  build(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

// An array of 4-byte numbers: element type, count, then the packed values.
function writeNumberArray(out: Bytes, elementType: number, values: ArrayLike<number>, put: (b: Buffer, x: number, at: number) => void): void {
  out.u32(VALUE_TYPE.array);
  out.u32(elementType);
  out.u64(values.length);
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) put(b, values[i]!, i * 4);
  out.raw(b);
}

function writeValue(out: Bytes, v: MetaValue): void {
  switch (v.type) {
    case 'u32': out.u32(VALUE_TYPE.u32); out.u32(v.value); break;
    case 'i32': out.u32(VALUE_TYPE.i32); out.i32(v.value); break;
    case 'f32': out.u32(VALUE_TYPE.f32); out.f32(v.value); break;
    case 'bool': out.u32(VALUE_TYPE.bool); out.u8(v.value ? 1 : 0); break;
    case 'string': out.u32(VALUE_TYPE.string); out.str(v.value); break;
    case 'string[]':
      out.u32(VALUE_TYPE.array); out.u32(VALUE_TYPE.string); out.u64(v.value.length);
      for (const s of v.value) out.str(s);
      break;
    case 'f32[]': writeNumberArray(out, VALUE_TYPE.f32, v.value, (b, x, at) => b.writeFloatLE(x, at)); break;
    case 'i32[]': writeNumberArray(out, VALUE_TYPE.i32, v.value, (b, x, at) => b.writeInt32LE(x, at)); break;
  }
}

const pad = (n: number, align: number): number => (align - (n % align)) % align;

export function writeGguf(path: string, metadata: [string, MetaValue][], tensors: TensorSpec[], alignment = 32): void {
  const header = new Bytes();
  header.raw(Buffer.from('GGUF'));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) {
    header.str(key);
    writeValue(header, value);
  }
  let offset = 0;
  for (const t of tensors) {
    header.str(t.name);
    header.u32(t.shape.length);
    for (const d of t.shape) header.u64(d);
    header.u32(TYPE_ID[t.type]);
    header.u64(offset);
    const n = tensorBytes(t.type, t.shape);
    offset += n + pad(n, alignment);
  }
  header.raw(Buffer.alloc(pad(header.length, alignment)));

  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header.build());
    for (const t of tensors) {
      const want = tensorBytes(t.type, t.shape);
      let wrote = 0;
      for (const chunk of t.data()) {
        writeSync(fd, chunk);
        wrote += chunk.length;
      }
      if (wrote !== want) throw new Error(`tensor ${t.name}: wrote ${wrote} bytes, expected ${want}`);
      writeSync(fd, Buffer.alloc(pad(want, alignment)));
    }
  } finally {
    closeSync(fd);
  }
}
