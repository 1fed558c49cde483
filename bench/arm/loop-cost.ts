// The cost of one kernel's hot loop on a given core, from the cross-compiled code: the probe source
// (bench/arm/probe.cc, with one set's kernel file) compiled to assembly with the release flags of that
// set, the innermost loop of a probe function found in it, and llvm-mca's steady-state cycles per
// iteration with the core's scheduling model (every load hitting L1: memory is accounted for apart).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * A probe function's hot loop, as llvm-mca will time it: the loop over blocks, and when the compiler
 * kept a loop over tokens inside it, that inner loop and how many times it runs per block.
 */
export interface HotLoop {
  instructions: string[];
  blocksPerIteration: number;
  inner?: { instructions: string[]; timesPerBlock: number };
}

/** What to look for: the instruction that does the work, and how many of them one block takes. */
export interface LoopSignature {
  work: RegExp;
  perBlock: number;
}

const LABEL = /^(\.?[\w.$]+):/;
// Branches of both instruction sets: b, b.ne, bne, bhi, cbnz, tbz ... with the label as last operand.
const BRANCH = /^\s*(b(\.\w+)?|b(eq|ne|cs|cc|hs|lo|mi|pl|hi|ls|ge|lt|gt|le)|cbn?z|tbn?z)\s+(?:.*,\s*)?(\.?[\w.$]+)\s*$/;

/** The assembly lines of one function, following a tail call (`b other`) when the body has no loop. */
function functionBody(lines: string[], name: string, depth = 0): string[] {
  const start = lines.findIndex((l) => l.startsWith(name + ':'));
  if (start < 0) throw new Error(`${name} is not in the compiler's output`);
  const end = lines.findIndex((l, i) => i > start && /^\s*\.size\s/.test(l));
  const body = lines.slice(start + 1, end < 0 ? undefined : end);
  const instructions = body.filter((l) => /^\s+[a-z]/.test(l) && !/^\s+\./.test(l));
  const tail = instructions.length <= 2 ? /^\s*b\s+([\w.$]+)(?:\(PLT\))?\s*$/.exec(instructions.at(-1) ?? '') : null;
  if (tail && depth < 3) return functionBody(lines, tail[1]!, depth + 1);
  return body;
}

interface Loop {
  from: number;
  to: number;
}

const isInstruction = (l: string) => /^\s+[a-z]/.test(l) && !/^\s+\./.test(l);

/**
 * The loop that does a probe function's work: the smallest loop (a label and a later branch back to it)
 * holding whole blocks of work instructions; if the smallest loop holding any holds only part of a
 * block (a loop over tokens inside the loop over blocks), that one inside the smallest one around it.
 */
export function hotLoop(assembly: string, fn: string, sig: LoopSignature): HotLoop {
  const body = functionBody(assembly.split('\n'), fn);
  const loops: Loop[] = [];
  body.forEach((line, i) => {
    const label = LABEL.exec(line)?.[1];
    if (!label) return;
    for (let j = i + 1; j < body.length; ++j) if (BRANCH.exec(body[j]!)?.[4] === label) loops.push({ from: i, to: j });
  });
  const instructions = (l: Loop, except?: Loop) =>
    body.slice(l.from + 1, l.to + 1).filter((line, i) => isInstruction(line) && !(except && i + l.from + 1 > except.from && i + l.from + 1 <= except.to)).map((x) => x.trim());
  const work = (ins: string[]) => ins.filter((l) => sig.work.test(l)).length;
  const size = (l: Loop) => l.to - l.from;
  const withWork = loops.filter((l) => work(instructions(l)) > 0).sort((a, b) => size(a) - size(b));
  const inner = withWork[0];
  if (!inner) throw new Error(`no loop with ${sig.work} in ${fn}`);
  const innerWork = work(instructions(inner));
  if (innerWork % sig.perBlock === 0) return { instructions: instructions(inner), blocksPerIteration: innerWork / sig.perBlock };
  const outer = withWork.find((l) => l.from <= inner.from && l.to >= inner.to && l !== inner);
  if (!outer || sig.perBlock % innerWork !== 0 || work(instructions(outer, inner)) !== 0)
    throw new Error(`${fn}: a loop of ${innerWork} work instructions, not a whole number of blocks of ${sig.perBlock} nor a loop over tokens inside one`);
  return {
    instructions: instructions(outer, inner),
    blocksPerIteration: 1,
    inner: { instructions: instructions(inner), timesPerBlock: sig.perBlock / innerWork },
  };
}

/** llvm-mca: 19's models where installed (Debian's llvm-19), else the default llvm-mca. */
export function llvmMca(): string {
  for (const path of ['/usr/lib/llvm-19/bin/llvm-mca', '/usr/lib/llvm-18/bin/llvm-mca', '/usr/lib/llvm-17/bin/llvm-mca']) if (existsSync(path)) return path;
  return 'llvm-mca';
}

function mcaCycles(instructions: string[], triple: string, mcpu: string, mattr: string): number {
  const iterations = 1000;
  const args = [`-mtriple=${triple}`, `-mcpu=${mcpu}`, `-iterations=${iterations}`, ...(mattr ? [`-mattr=${mattr}`] : [])];
  const out = execFileSync(llvmMca(), args, { input: instructions.join('\n') + '\n', encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  const total = /Total Cycles:\s+(\d+)/.exec(out);
  if (!total) throw new Error(`llvm-mca printed no cycle count:\n${out.slice(0, 400)}`);
  return Number(total[1]) / iterations;
}

/** Steady-state cycles per block of work: llvm-mca's total cycles over many iterations, divided. */
export function cyclesPerBlock(loop: HotLoop, triple: string, mcpu: string, mattr: string): number {
  const outer = mcaCycles(loop.instructions, triple, mcpu, mattr) / loop.blocksPerIteration;
  return outer + (loop.inner ? mcaCycles(loop.inner.instructions, triple, mcpu, mattr) * loop.inner.timesPerBlock : 0);
}

/** The probe compiled to assembly by the cross compiler with the given flags. */
export function compileProbe(compiler: string, probe: string, flags: string[]): string {
  return execFileSync(compiler, ['-O3', '-std=c++17', ...flags, '-S', '-o', '-', probe], { encoding: 'utf8', maxBuffer: 64 << 20 });
}
