// Byte positions of a GGUF header's fields, so tests can corrupt exactly one of them.
export interface KvField {
  key: string;
  at: number;        // the key's u64 length
  typeAt: number;    // the value type u32
  valueAt: number;   // the value (for arrays: the element type u32)
}

export interface TensorField {
  name: string;
  at: number;        // the name's u64 length
  nDimsAt: number;
  neAt: number[];
  typeAt: number;
  offsetAt: number;
  offset: bigint;
}

export interface GgufLayout {
  kvs: KvField[];
  tensors: TensorField[];
  headerEnd: number;
}

const SCALAR_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

export function ggufLayout(b: Buffer): GgufLayout {
  let pos = 8;
  const u64 = (): bigint => {
    const v = b.readBigUInt64LE(pos);
    pos += 8;
    return v;
  };
  const u32 = (): number => {
    const v = b.readUInt32LE(pos);
    pos += 4;
    return v;
  };
  const str = (): string => {
    const n = Number(u64());
    const s = b.toString('utf8', pos, pos + n);
    pos += n;
    return s;
  };
  const skipValue = (type: number): void => {
    if (type === 8) str();
    else if (type === 9) {
      const et = u32();
      const n = Number(u64());
      for (let i = 0; i < n; i++) skipValue(et);
    } else pos += SCALAR_SIZE[type]!;
  };
  const nTensors = Number(u64());
  const nKv = Number(u64());
  const kvs: KvField[] = [];
  for (let i = 0; i < nKv; i++) {
    const at = pos;
    const key = str();
    const typeAt = pos;
    const type = u32();
    const valueAt = pos;
    skipValue(type);
    kvs.push({ key, at, typeAt, valueAt });
  }
  const tensors: TensorField[] = [];
  for (let i = 0; i < nTensors; i++) {
    const at = pos;
    const name = str();
    const nDimsAt = pos;
    const nDims = u32();
    const neAt: number[] = [];
    for (let d = 0; d < nDims; d++) {
      neAt.push(pos);
      pos += 8;
    }
    const typeAt = pos;
    pos += 4;
    const offsetAt = pos;
    const offset = u64();
    tensors.push({ name, at, nDimsAt, neAt, typeAt, offsetAt, offset });
  }
  return { kvs, tensors, headerEnd: pos };
}
