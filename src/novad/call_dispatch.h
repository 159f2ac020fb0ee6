// How novad's threads hand calls to each other. The bus thread owns the bus
// connection that serves org.nova.Nova1: it reads each call's credentials,
// decodes it and queues its work here, and it alone sends the replies (no
// sdbus object ever crosses a thread). A pool of workers, each with its own
// AgentManager on its own systemd connection, runs spawns, kills and
// attaches; the memory watcher's thread runs reliefs between its checks.
// Work comes back as plain data (CallOutcome) through a mailbox that wakes
// the bus thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "agent_manager.h"
#include "errors.h"
#include "memory_watch.h"
#include "work_queue.h"

namespace nova {

// What a call's work ended with: its result, or the error to reply.
struct CallOutcome {
  std::variant<std::monostate, SpawnResult, ReliefResult, std::vector<AgentManager::KillRefusal>>
      value;
  std::optional<Error> error;
};
using WorkerWork = std::function<CallOutcome(AgentManager&)>;
using WatcherWork = std::function<CallOutcome(MemoryWatcher&)>;
// Sends the reply; runs on the bus thread.
using Respond = std::function<void(const CallOutcome&)>;

// The most reliefs waiting for the watcher (root only asks for them).
inline constexpr std::size_t kMaxWaitingReliefs = 2;

class CallDispatch {
 public:
  explicit CallDispatch(WorkQueueLimits limits);
  ~CallDispatch();
  CallDispatch(const CallDispatch&) = delete;
  CallDispatch& operator=(const CallDispatch&) = delete;

  // Bus thread. Queues `work` for a worker (calls of one `key`, the agent
  // name, run one at a time); refused at once with Busy when the queue, or
  // the caller's share of it, is full.
  void Submit(const std::string& key, uint32_t caller_uid, WorkerWork work, Respond respond);
  // Queues `work` for the watcher's thread.
  void SubmitToWatcher(WatcherWork work, Respond respond);
  // POLLIN when outcomes wait for DeliverOutcomes.
  int outcome_fd() const { return outcome_fd_; }
  void DeliverOutcomes();
  // Answers every call not yet run (novad is stopping) and makes RunWorker
  // return once its current call is done.
  void Close();

  // A worker thread's loop, until Close; `idle`, when given, runs before
  // each call and every 5 s without one (to drain a connection).
  void RunWorker(AgentManager& manager, const std::function<void()>& idle = {});
  // Watcher thread: POLLIN when work waits; runs what waits, without blocking.
  int watcher_fd() const { return watcher_fd_; }
  void RunWatcherWork(MemoryWatcher& watcher);

 private:
  struct Task {
    uint64_t id;
    WorkerWork work;
  };
  struct WatcherTask {
    uint64_t id;
    WatcherWork work;
  };
  void Complete(uint64_t id, CallOutcome outcome);
  uint64_t Remember(Respond respond);  // bus thread

  WorkQueue<Task> queue_;
  int outcome_fd_;
  int watcher_fd_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Respond> pending_;  // bus thread only
  std::mutex mutex_;                     // guards the two below
  std::vector<std::pair<uint64_t, CallOutcome>> outcomes_;
  std::vector<WatcherTask> watcher_tasks_;
  bool closed_ = false;
};

// The one line a caller gets for a call refused by a full queue.
Error BusyError(QueueAdmission admission, const WorkQueueLimits& limits);

}  // namespace nova
