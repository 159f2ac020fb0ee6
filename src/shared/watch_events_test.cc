#include "watch_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace nova {
namespace {

// Anyone can log MESSAGE_ID=kWatchMessageId with made-up fields; the events
// are read only from entries whose sender journald itself vouches for.
TEST(WatchEventMatches, OnlyNovadsOwnEntries) {
  EXPECT_THAT(WatchEventMatches(),
              testing::UnorderedElementsAre(std::string("MESSAGE_ID=") + kWatchMessageId, "_UID=0",
                                            "_SYSTEMD_UNIT=novad.service"));
}

TEST(WatchEventToJson, KillsSayWhyAndOomKillsNameTheProcess) {
  RecordedWatchEvent kill;
  kill.event.action = watch_action::kKill;
  kill.event.agent = "grower";
  kill.event.reason = "growing 180M/s at 250M, 1.1G projected in 5s";
  kill.event.agent_growth = 180 << 20;
  kill.event.agent_projected = 1100ULL << 20;
  nlohmann::json j = WatchEventToJson(kill);
  EXPECT_EQ(j["reason"], "growing 180M/s at 250M, 1.1G projected in 5s");
  EXPECT_EQ(j["agent_growth_bytes_per_second"], 180 << 20);
  EXPECT_EQ(j["agent_projected"], 1100ULL << 20);
  EXPECT_FALSE(j.contains("oom_kills"));

  RecordedWatchEvent oom;
  oom.event.action = watch_action::kOomKill;
  oom.event.agent = "build";
  oom.event.oom_kills = 2;
  oom.event.oom_new = 1;
  oom.event.oom_pid = 1234;
  oom.event.oom_process = "cc1plus";
  j = WatchEventToJson(oom);
  EXPECT_EQ(j["oom_kills"], 2);
  EXPECT_EQ(j["oom_new"], 1);
  EXPECT_EQ(j["oom_pid"], 1234);
  EXPECT_EQ(j["oom_process"], "cc1plus");
  EXPECT_FALSE(j.contains("reason"));
  oom.event.oom_pid = 0;
  oom.event.oom_process = "";
  j = WatchEventToJson(oom);
  EXPECT_TRUE(j["oom_pid"].is_null());
  EXPECT_TRUE(j["oom_process"].is_null());
}

}  // namespace
}  // namespace nova
