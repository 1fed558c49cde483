// Prints the machine's read bandwidth in GB/s with the given thread count (the best of five reads of a
// 1 GB buffer). Its own process, so that the buffer never counts in a measured process's peak RSS;
// bench/measure.ts runs it beside every decode measurement, because this machine's speed drifts.
import { loadAddon } from '../daemon/engine/index.js';

const threads = Number(process.argv[2] ?? 1);
process.stdout.write(String(loadAddon().probeBandwidth(1024, threads)) + '\n');
