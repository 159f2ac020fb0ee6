#include "call_dispatch.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nova {
namespace {

void Wake(int fd) {
  uint64_t one = 1;
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void Clear(int fd) {
  uint64_t count;
  while (::read(fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

int MakeEventFd() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw Error(ErrorKind::kFailed, std::string("eventfd: ") + std::strerror(errno));
  return fd;
}

CallOutcome Stopping() {
  return CallOutcome{{},
                     Error(ErrorKind::kUnavailable,
                           "novad is stopping; try again once it "
                           "is back (systemctl status novad)")};
}

}  // namespace

Error BusyError(QueueAdmission admission, const WorkQueueLimits& limits) {
  if (admission == QueueAdmission::kCallerFull) {
    return Error(ErrorKind::kBusy, "novad is busy: you have " +
                                       std::to_string(limits.max_per_caller) +
                                       " calls in progress, the most one user may have; wait "
                                       "for them to finish and try again");
  }
  if (admission == QueueAdmission::kClosed) return Stopping().error.value();
  return Error(ErrorKind::kBusy, "novad is busy: " + std::to_string(limits.max_waiting) +
                                     " calls are waiting for a worker, the most it queues; try "
                                     "again in a moment");
}

CallDispatch::CallDispatch(WorkQueueLimits limits)
    : queue_(limits), outcome_fd_(MakeEventFd()), watcher_fd_(MakeEventFd()) {}

CallDispatch::~CallDispatch() {
  ::close(outcome_fd_);
  ::close(watcher_fd_);
}

uint64_t CallDispatch::Remember(Respond respond) {
  uint64_t id = next_id_++;
  pending_.emplace(id, std::move(respond));
  return id;
}

void CallDispatch::Submit(const std::string& key, uint32_t caller_uid, WorkerWork work,
                          Respond respond) {
  uint64_t id = Remember(respond);
  auto admission = queue_.Push(key, caller_uid, Task{id, std::move(work)});
  if (admission != QueueAdmission::kQueued) {
    pending_.erase(id);
    respond(CallOutcome{{}, BusyError(admission, queue_.limits())});
  }
}

void CallDispatch::SubmitToWatcher(WatcherWork work, Respond respond) {
  std::optional<Error> refused;
  uint64_t id = Remember(respond);
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      refused = Stopping().error;
    } else if (watcher_tasks_.size() >= kMaxWaitingReliefs) {
      refused = Error(ErrorKind::kBusy, "novad is busy: " + std::to_string(kMaxWaitingReliefs) +
                                            " reliefs are waiting already; try again once "
                                            "they are done");
    } else {
      watcher_tasks_.push_back(WatcherTask{id, std::move(work)});
    }
  }
  if (refused) {
    pending_.erase(id);
    respond(CallOutcome{{}, *refused});
    return;
  }
  Wake(watcher_fd_);
}

void CallDispatch::Complete(uint64_t id, CallOutcome outcome) {
  {
    std::lock_guard lock(mutex_);
    outcomes_.emplace_back(id, std::move(outcome));
  }
  Wake(outcome_fd_);
}

void CallDispatch::DeliverOutcomes() {
  Clear(outcome_fd_);
  std::vector<std::pair<uint64_t, CallOutcome>> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(outcomes_);
  }
  for (auto& [id, outcome] : ready) {
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    Respond respond = std::move(it->second);
    pending_.erase(it);
    respond(outcome);
  }
}

void CallDispatch::Close() {
  std::vector<uint64_t> refused;
  for (auto& item : queue_.Close()) refused.push_back(item.task.id);
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (auto& task : watcher_tasks_) refused.push_back(task.id);
    watcher_tasks_.clear();
  }
  for (uint64_t id : refused) Complete(id, Stopping());
  DeliverOutcomes();
}

void CallDispatch::RunWorker(AgentManager& manager, const std::function<void()>& idle) {
  for (;;) {
    // Without an idle task, a worker sleeps until a call comes: eight
    // workers waking every 5 s for nothing were a tenth of novad's idle
    // CPU under emulation.
    bool closed = false;
    auto item = idle ? queue_.TakeWithin(std::chrono::seconds(5), &closed) : queue_.Take();
    if (!item && (closed || !idle)) return;
    if (idle) idle();
    if (!item) continue;
    CallOutcome outcome;
    try {
      outcome = item->task.work(manager);
    } catch (const std::exception& e) {  // the work catches its own; this is a last resort
      outcome.error = Error(ErrorKind::kFailed, e.what());
    }
    Complete(item->task.id, std::move(outcome));
    queue_.Done(*item);
  }
}

void CallDispatch::RunWatcherWork(MemoryWatcher& watcher) {
  Clear(watcher_fd_);
  for (;;) {
    WatcherTask task;
    {
      std::lock_guard lock(mutex_);
      if (watcher_tasks_.empty()) return;
      task = std::move(watcher_tasks_.front());
      watcher_tasks_.erase(watcher_tasks_.begin());
    }
    CallOutcome outcome;
    try {
      outcome = task.work(watcher);
    } catch (const std::exception& e) {
      outcome.error = Error(ErrorKind::kFailed, e.what());
    }
    Complete(task.id, std::move(outcome));
  }
}

}  // namespace nova
