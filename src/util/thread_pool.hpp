// Bounded parallelism for independent work items (downloads, layer compression).
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <thread>
#include <utility>

namespace distill::util {

// Number of workers to use when the user gives none: the online CPUs.
unsigned default_jobs();

// Names the calling thread (its first 15 bytes), so that `top -H`, `ps -L`
// and scheduler traces (`perf sched`) tell the build's threads apart.
void name_this_thread(std::string_view name);

// A thread named `name` (a string literal: it is read when the thread starts)
// that runs `body`.
template <class Body>
std::thread named_thread(const char* name, Body body) {
  return std::thread([name, body = std::move(body)]() mutable {
    name_this_thread(name);
    body();
  });
}

// Moves the calling thread off `cpu` (a new thread may start on its
// creator's CPU), then lets it run on any CPU it could before: it stays where
// it was moved until the scheduler moves it again. False when it was not moved: `cpu` is
// not one it may run on, it may run on no other, or the kernel refused.
bool move_off_cpu(int cpu);

// Runs task(0..count-1) on up to `jobs` threads (the caller's thread is one of
// them) and returns when all are done. Tasks must not throw.
void parallel_for(size_t count, unsigned jobs, const std::function<void(size_t)>& task);

}  // namespace distill::util
