// The bounds and the per-name order of novad's call queue, with real threads
// where the order between them is the point.
#include "work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

namespace nova {
namespace {

using Queue = WorkQueue<int>;

TEST(WorkQueue, RefusesPastItsBoundInsteadOfGrowing) {
  Queue queue({3, 100});
  EXPECT_EQ(queue.Push("a", 0, 1), QueueAdmission::kQueued);
  EXPECT_EQ(queue.Push("b", 0, 2), QueueAdmission::kQueued);
  EXPECT_EQ(queue.Push("c", 0, 3), QueueAdmission::kQueued);
  EXPECT_EQ(queue.Push("d", 0, 4), QueueAdmission::kFull);
  EXPECT_EQ(queue.waiting(), 3u);
  auto item = queue.Take();  // running items do not count as waiting
  EXPECT_EQ(queue.Push("d", 0, 4), QueueAdmission::kQueued);
  EXPECT_EQ(queue.Push("e", 0, 5), QueueAdmission::kFull);
}

TEST(WorkQueue, OneUserOtherThanRootHoldsOnlyItsShare) {
  Queue queue({100, 2});
  EXPECT_EQ(queue.Push("a", 1000, 1), QueueAdmission::kQueued);
  auto running = queue.Take();  // running counts too
  EXPECT_EQ(queue.Push("b", 1000, 2), QueueAdmission::kQueued);
  EXPECT_EQ(queue.Push("c", 1000, 3), QueueAdmission::kCallerFull);
  EXPECT_EQ(queue.Push("c", 1001, 3), QueueAdmission::kQueued);  // another user
  for (int i = 0; i < 5; ++i) EXPECT_EQ(queue.Push("r", 0, i), QueueAdmission::kQueued);
  queue.Done(*running);
  EXPECT_EQ(queue.Push("c", 1000, 3), QueueAdmission::kQueued);
}

TEST(WorkQueue, ANameBusyIsPassedByOthersAndKeepsItsOrder) {
  Queue queue({10, 10});
  queue.Push("x", 0, 1);
  queue.Push("x", 0, 2);
  queue.Push("y", 0, 3);
  auto first = queue.Take();
  EXPECT_EQ(first->task, 1);
  auto second = queue.Take();  // x is running: y goes first
  EXPECT_EQ(second->task, 3);
  queue.Done(*first);
  auto third = queue.Take();
  EXPECT_EQ(third->task, 2);
}

TEST(WorkQueue, DoneWakesAWorkerForTheNextCallOfThatName) {
  Queue queue({10, 10});
  queue.Push("x", 0, 1);
  queue.Push("x", 0, 2);
  auto first = queue.Take();
  std::optional<int> taken;
  std::thread worker([&] {
    bool closed = false;
    if (auto item = queue.TakeWithin(std::chrono::seconds(5), &closed)) taken = item->task;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the worker waits on x
  queue.Done(*first);  // by a thread that does not take again
  worker.join();
  EXPECT_EQ(taken, 2);
}

TEST(WorkQueue, CallsOfOneNameNeverRunAtOnceAndOthersDo) {
  Queue queue({100, 100});
  std::atomic<int> running_x{0}, most_x{0}, running_all{0}, most_all{0}, done{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto item = queue.Take()) {
        bool x = item->key == "x";
        int all = ++running_all;
        most_all = std::max(most_all.load(), all);
        if (x) {
          int now = ++running_x;
          most_x = std::max(most_x.load(), now);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (x) --running_x;
        --running_all;
        ++done;
        queue.Done(*item);
      }
    });
  }
  for (int i = 0; i < 12; ++i) queue.Push(i % 2 ? "x" : "k" + std::to_string(i), 0, i);
  while (done < 12) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(queue.Close().empty());
  for (auto& t : workers) t.join();
  EXPECT_EQ(most_x, 1);
  EXPECT_GT(most_all, 1);
}

TEST(WorkQueue, CloseHandsBackWhatNeverRanAndRefusesMore) {
  Queue queue({10, 10});
  queue.Push("a", 0, 1);
  queue.Push("b", 0, 2);
  auto left = queue.Close();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].task, 1);
  EXPECT_EQ(queue.Push("c", 0, 3), QueueAdmission::kClosed);
  EXPECT_FALSE(queue.Take().has_value());
}

TEST(WorkQueue, TakeWithinGivesUpWhenNothingComes) {
  Queue queue({10, 10});
  bool closed = true;
  EXPECT_FALSE(queue.TakeWithin(std::chrono::milliseconds(10), &closed).has_value());
  EXPECT_FALSE(closed);
  queue.Push("a", 0, 1);
  EXPECT_EQ(queue.TakeWithin(std::chrono::milliseconds(10), &closed)->task, 1);
  queue.Close();
  EXPECT_FALSE(queue.TakeWithin(std::chrono::milliseconds(10), &closed).has_value());
  EXPECT_TRUE(closed);
}

TEST(WorkQueue, CloseWakesAWaitingWorker) {
  Queue queue({10, 10});
  std::thread worker([&] { EXPECT_FALSE(queue.Take().has_value()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  queue.Close();
  worker.join();
}

}  // namespace
}  // namespace nova
