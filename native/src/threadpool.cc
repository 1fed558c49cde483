#include "threadpool.h"

#include <algorithm>

ThreadPool::ThreadPool(int n_threads) { start(n_threads); }

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::set_threads(int n_threads) {
    n_threads = std::max(1, n_threads);
    if (n_threads == n_threads_) return;
    stop();
    start(n_threads);
}

void ThreadPool::start(int n_threads) {
    n_threads_ = std::max(1, n_threads);
    quit_ = false;
    // Workers start from the current generation: a job posted before a new thread first runs
    // must still be seen by it (reading the counter in the thread itself would miss that job).
    const uint64_t gen = generation_;
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back(&ThreadPool::worker, this, i, gen);
}

void ThreadPool::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        quit_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
    if (n_threads_ == 1) {
        fn(0, 1);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        job_ = &fn;
        pending_ = n_threads_ - 1;
        ++generation_;
    }
    wake_.notify_all();
    fn(0, n_threads_);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
}

void ThreadPool::worker(int ith, uint64_t seen) {
    for (;;) {
        const std::function<void(int, int)>* job;
        int nth;
        {
            std::unique_lock<std::mutex> lock(mu_);
            wake_.wait(lock, [&] { return quit_ || generation_ != seen; });
            if (quit_) return;
            seen = generation_;
            job = job_;
            nth = n_threads_;
        }
        (*job)(ith, nth);
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (--pending_ == 0) done_.notify_one();
        }
    }
}
