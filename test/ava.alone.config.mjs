// Tests whose speed comparisons another test file's load would decide, run by `npm test` after the
// others, alone and one file at a time (paths are relative to the project directory, where package.json is).
export default {
  files: ['dist/test/daemon-power.test.js', 'dist/test/native/threadpool-contention.test.js'],
  timeout: '3m',
  concurrency: 1,
  workerThreads: false,
};
