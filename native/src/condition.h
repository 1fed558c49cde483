// A condition variable over POSIX's, for std::mutex. Not std::condition_variable: GCC 12 gave its
// wait() a new symbol version (GLIBCXX_3.4.30) and its timed waits need glibc 2.34's
// pthread_cond_clockwait, neither of which Raspberry Pi OS bullseye has (cross/check-binary.sh guards
// this). pthread_cond_wait has had the same symbol for decades.
#pragma once
#include <pthread.h>

#include <mutex>

class Condition {
public:
    Condition() { pthread_cond_init(&cond_, nullptr); }
    ~Condition() { pthread_cond_destroy(&cond_); }
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;

    // Like std::condition_variable::wait(lock, pred): returns with the lock held and pred() true.
    template <typename Pred>
    void wait(std::unique_lock<std::mutex>& lock, Pred pred) {
        while (!pred()) pthread_cond_wait(&cond_, lock.mutex()->native_handle());
    }
    void notify_one() { pthread_cond_signal(&cond_); }
    void notify_all() { pthread_cond_broadcast(&cond_); }

private:
    pthread_cond_t cond_;
};
