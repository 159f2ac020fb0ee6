// novactl's patience with a busy novad, on a fake clock.
#include "busy_retry.h"

#include <gtest/gtest.h>

#include "errors.h"

namespace nova {
namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point t{};
  std::vector<std::string> said;
  int sleeps = 0;
  BusyRetry How() {
    BusyRetry how;
    how.sleep = [this](std::chrono::milliseconds pause) {
      t += pause;
      ++sleeps;
    };
    how.now = [this] { return t; };
    how.say = [this](const std::string& line) { said.push_back(line); };
    how.random = [] { return 0u; };
    return how;
  }
};

TEST(BusyRetry, AsksAgainUntilNovadTakesTheCall) {
  FakeClock clock;
  int calls = 0;
  RetryWhileBusy(
      [&] {
        if (++calls < 4) throw Error(ErrorKind::kBusy, "novad is busy");
      },
      clock.How());
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(clock.sleeps, 3);
  EXPECT_TRUE(clock.said.empty());  // a short wait goes unsaid
}

TEST(BusyRetry, OtherErrorsAreNotRetried) {
  FakeClock clock;
  int calls = 0;
  EXPECT_THROW(RetryWhileBusy(
                   [&] {
                     ++calls;
                     throw Error(ErrorKind::kAdmissionRefused, "no");
                   },
                   clock.How()),
               Error);
  EXPECT_EQ(calls, 1);
}

TEST(BusyRetry, SaysSoOnceThenGivesUpWithBusy) {
  FakeClock clock;
  BusyRetry how = clock.How();
  try {
    RetryWhileBusy([] { throw Error(ErrorKind::kBusy, "novad is busy: you have 4 calls"); }, how);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBusy);
  }
  EXPECT_GE(clock.t - std::chrono::steady_clock::time_point{}, how.patience);
  ASSERT_EQ(clock.said.size(), 1u);
  EXPECT_EQ(clock.said[0],
            "novactl: novad is busy: you have 4 calls; still trying, for up to 60 s in all");
  // Pauses of at most half a second: about 120 asks a minute, not a flood.
  EXPECT_LE(clock.sleeps, 130);
}

TEST(BusyRetry, PausesGrowToHalfASecondWithJitter) {
  EXPECT_EQ(BusyPause(0, 0).count(), 10);
  EXPECT_EQ(BusyPause(1, 0).count(), 20);
  EXPECT_EQ(BusyPause(5, 0).count(), 320);
  EXPECT_EQ(BusyPause(6, 0).count(), 500);
  EXPECT_EQ(BusyPause(40, 0).count(), 500);
  EXPECT_EQ(BusyPause(6, 250).count(), 250);  // at most half taken off
  EXPECT_EQ(BusyPause(6, 251).count(), 500);
}

}  // namespace
}  // namespace nova
