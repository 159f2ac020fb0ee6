// What callers hear when novad's queues are full or novad is stopping: at
// once, one line, and every call answered exactly once.
#include "call_dispatch.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

struct Heard {
  std::vector<std::string> lines;
  Respond Record() {
    return [this](const CallOutcome& o) {
      lines.push_back(o.error ? DbusErrorNameFor(o.error->kind()) + ": " + o.error->what()
                              : std::string("ok"));
    };
  }
};

TEST(CallDispatch, AFullQueueIsRefusedAtOnceWithBusy) {
  CallDispatch dispatch({1, 4});
  Heard heard;
  WorkerWork nothing = [](AgentManager&) { return CallOutcome{}; };
  dispatch.Submit("a", 1000, nothing, heard.Record());
  EXPECT_TRUE(heard.lines.empty());  // waiting for a worker
  dispatch.Submit("b", 1000, nothing, heard.Record());
  ASSERT_EQ(heard.lines.size(), 1u);
  EXPECT_EQ(heard.lines[0],
            "org.nova.Nova1.Error.Busy: novad is busy: 1 calls are waiting for a worker, the "
            "most it queues; try again in a moment");
}

TEST(CallDispatch, OneUsersShareIsNamed) {
  EXPECT_EQ(std::string(BusyError(QueueAdmission::kCallerFull, {64, 4}).what()),
            "novad is busy: you have 4 calls in progress, the most one user may have; wait for "
            "them to finish and try again");
  EXPECT_EQ(BusyError(QueueAdmission::kCallerFull, {64, 4}).kind(), ErrorKind::kBusy);
  EXPECT_EQ(ExitCodeFor(ErrorKind::kBusy), 9);
}

TEST(CallDispatch, ReliefsWaitingAreBounded) {
  CallDispatch dispatch({64, 4});
  Heard heard;
  WatcherWork nothing = [](MemoryWatcher&) { return CallOutcome{}; };
  for (std::size_t i = 0; i <= kMaxWaitingReliefs; ++i)
    dispatch.SubmitToWatcher(nothing, heard.Record());
  ASSERT_EQ(heard.lines.size(), 1u);
  EXPECT_EQ(heard.lines[0],
            "org.nova.Nova1.Error.Busy: novad is busy: 2 reliefs are waiting already; try again "
            "once they are done");
}

TEST(CallDispatch, StoppingAnswersEveryCallThatNeverRan) {
  CallDispatch dispatch({64, 4});
  Heard heard;
  dispatch.Submit(
      "a", 0, [](AgentManager&) { return CallOutcome{}; }, heard.Record());
  dispatch.SubmitToWatcher([](MemoryWatcher&) { return CallOutcome{}; }, heard.Record());
  dispatch.Close();
  ASSERT_EQ(heard.lines.size(), 2u);
  for (const auto& line : heard.lines) {
    EXPECT_EQ(line,
              "org.nova.Nova1.Error.Unavailable: novad is stopping; try again once it is back "
              "(systemctl status novad)");
  }
  dispatch.Submit(
      "b", 0, [](AgentManager&) { return CallOutcome{}; }, heard.Record());
  EXPECT_EQ(heard.lines.size(), 3u);
  dispatch.DeliverOutcomes();  // nothing is answered twice
  EXPECT_EQ(heard.lines.size(), 3u);
}

}  // namespace
}  // namespace nova
