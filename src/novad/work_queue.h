// The queue between novad's bus thread and its workers. A spawn can take a
// whole start deadline, so calls run on a pool; this queue keeps that pool
// safe from its callers: it is bounded (a flood is refused at once, never
// held in memory), one caller other than root holds only a few of its places,
// and calls about the same agent name run one after the other, in order, so
// that a spawn and a kill (or two spawns) of one name never interleave.
// Calls of other names pass a busy one. Thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace nova {

struct WorkQueueLimits {
  std::size_t max_waiting = 64;    // calls not yet running, all callers
  std::size_t max_per_caller = 4;  // waiting and running, per uid other than root
};

enum class QueueAdmission { kQueued, kFull, kCallerFull, kClosed };

template <typename Task>
class WorkQueue {
 public:
  struct Item {
    std::string key;  // the agent name: items of one key run one at a time
    uint32_t caller = 0;
    Task task;
  };

  explicit WorkQueue(WorkQueueLimits limits) : limits_(limits) {}

  QueueAdmission Push(std::string key, uint32_t caller, Task task) {
    std::lock_guard lock(mutex_);
    if (closed_) return QueueAdmission::kClosed;
    if (waiting_.size() >= limits_.max_waiting) return QueueAdmission::kFull;
    if (caller != 0 && per_caller_[caller] >= limits_.max_per_caller) {
      return QueueAdmission::kCallerFull;
    }
    ++per_caller_[caller];
    waiting_.push_back(Item{std::move(key), caller, std::move(task)});
    ready_.notify_one();
    return QueueAdmission::kQueued;
  }

  // Blocks until an item whose key is not running (the oldest such) and
  // marks its key running; nullopt once closed. Call Done with it after.
  std::optional<Item> Take() {
    bool closed = false;
    for (;;) {
      auto item = TakeWithin(std::chrono::hours(1), &closed);
      if (item || closed) return item;
    }
  }

  // As Take, but nullopt also once `limit` passed with nothing to take
  // (`*closed` tells which).
  std::optional<Item> TakeWithin(std::chrono::milliseconds limit, bool* closed) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::unique_lock lock(mutex_);
    for (;;) {
      *closed = closed_;
      if (closed_) return std::nullopt;
      for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
        if (running_keys_.count(it->key)) continue;
        Item item = std::move(*it);
        waiting_.erase(it);
        running_keys_.insert(item.key);
        return item;
      }
      if (ready_.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
    }
  }

  void Done(const Item& item) {
    std::lock_guard lock(mutex_);
    running_keys_.erase(item.key);
    if (auto it = per_caller_.find(item.caller); it != per_caller_.end() && --it->second == 0) {
      per_caller_.erase(it);
    }
    // Only an item of this key can have become takeable; one worker takes
    // it. Waking every idle worker instead cost the bus thread's reply some
    // 35 ms on two CPUs (bench/README.md, kill one by one).
    bool next_of_key = std::any_of(waiting_.begin(), waiting_.end(),
                                   [&item](const Item& w) { return w.key == item.key; });
    if (next_of_key) ready_.notify_one();
  }

  // Refuses new items, wakes every Take (which returns nullopt) and hands
  // back the items that never ran, for their callers to be answered.
  std::vector<Item> Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    std::vector<Item> left(std::make_move_iterator(waiting_.begin()),
                           std::make_move_iterator(waiting_.end()));
    waiting_.clear();
    ready_.notify_all();
    return left;
  }

  std::size_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }

  const WorkQueueLimits& limits() const { return limits_; }

 private:
  const WorkQueueLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> waiting_;
  std::set<std::string> running_keys_;
  std::map<uint32_t, std::size_t> per_caller_;
  bool closed_ = false;
};

}  // namespace nova
