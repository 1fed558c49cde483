#include "threadpool.h"

#include <algorithm>
#include <chrono>

namespace {

// How long a thread keeps polling before it sleeps: longer than the gap between two jobs of a token,
// far shorter than the gap between tokens of different requests.
constexpr auto kSpin = std::chrono::microseconds(300);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield");
#endif
}

// Polls `ready` for up to kSpin; true if it became true. Between rounds of polling it yields the core:
// when the machine has more runnable threads than cores (another engine, Home Assistant on the same
// Pi), the thread this one waits for may be the one waiting for the core, and a spin that keeps the
// core to itself until its time slice ends holds both up. With idle cores the yield returns at once.
template <typename F>
bool spin_until(F ready) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (ready()) return true;
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::yield();
    }
}

}  // namespace

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
    const uint64_t gen = generation_.load();
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
        pending_.store(n_threads_ - 1, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();  // only sleeping workers need it; spinning ones see the generation change
    fn(0, n_threads_);
    if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
        std::unique_lock<std::mutex> lock(mu_);
        done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
}

void ThreadPool::worker(int ith, uint64_t seen) {
    for (;;) {
        auto posted = [&] { return quit_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen; };
        if (!spin_until(posted)) {
            std::unique_lock<std::mutex> lock(mu_);
            wake_.wait(lock, posted);
        }
        if (quit_) return;
        const std::function<void(int, int)>* job;
        int nth;
        {
            std::lock_guard<std::mutex> lock(mu_);  // job_ and n_threads_ were written under the lock
            seen = generation_.load();
            job = job_;
            nth = n_threads_;
        }
        (*job)(ith, nth);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard<std::mutex> lock(mu_);
            done_.notify_one();
        }
    }
}
