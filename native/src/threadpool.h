// Persistent worker threads. Between the ~160 jobs of one token, workers spin briefly on an atomic,
// yielding the core between polls (waking a sleeping thread costs tens of microseconds, more in VMs);
// after a short while without work they sleep on a condition variable, so an idle daemon uses no CPU.
// The caller's thread takes part as worker 0, so a pool of n threads starts n - 1 workers.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "condition.h"

class ThreadPool {
public:
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int threads() const { return n_threads_; }
    // Changes the thread count; call between jobs (the engine serializes work per model).
    void set_threads(int n_threads);

    // Runs fn(ith, nth) on nth = threads() threads and returns when all are done.
    void run(const std::function<void(int ith, int nth)>& fn);

private:
    void start(int n_threads);
    void stop();
    void worker(int ith, uint64_t seen);

    int n_threads_ = 1;
    std::vector<std::thread> workers_;
    std::mutex mu_;
    Condition wake_;
    Condition done_;
    const std::function<void(int, int)>* job_ = nullptr;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> quit_{false};
};

// Splits [0, n) into nth nearly equal contiguous ranges; returns the ith one.
inline void split_range(int n, int ith, int nth, int& begin, int& end) {
    const int per = n / nth, rest = n % nth;
    begin = ith * per + (ith < rest ? ith : rest);
    end = begin + per + (ith < rest ? 1 : 0);
}
