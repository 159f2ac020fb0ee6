#include "memory_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent_memory.h"
#include "size.h"

namespace nova {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;

WatchFrame Frame(double used_percent) {
  WatchFrame f;
  f.memory = HostMemory{100 * kGiB, static_cast<uint64_t>(100 * kGiB * (100 - used_percent) / 100)};
  f.agents = {
      {"small", kGiB, 4 * kGiB}, {"big", 30 * kGiB, kInfinity}, {"mid", 10 * kGiB, 4 * kGiB}};
  return f;
}

TEST(WatchFrame, ListsAgentsLargestFirstWithTheHostState) {
  Config c;
  std::string text = FormatWatchFrame(Frame(50), c);
  EXPECT_NE(text.find("host memory 50G of 100G used (50.0%): ok"), std::string::npos) << text;
  size_t big = text.find("big"), mid = text.find("mid"), small = text.find("small");
  EXPECT_LT(big, mid);
  EXPECT_LT(mid, small);
  EXPECT_NE(text.find("3 agent(s), 41G in all"), std::string::npos) << text;
  EXPECT_NE(FormatWatchFrame(Frame(90), c).find(": admission closed"), std::string::npos);
  EXPECT_NE(FormatWatchFrame(Frame(96), c).find(": RELIEF"), std::string::npos);
}

TEST(WatchFrame, JsonHasHostThresholdsAndAgents) {
  Config c;
  nlohmann::json j = WatchFrameToJson(Frame(50), c);
  EXPECT_EQ(j["host"]["memory_used_percent"], 50.0);
  EXPECT_EQ(j["host"]["admission_reopen_percent"], 80.0);
  ASSERT_EQ(j["agents"].size(), 3u);
  EXPECT_EQ(j["agents"][0]["name"], "big");
  EXPECT_TRUE(j["agents"][0]["memory_max_bytes"].is_null());
  EXPECT_EQ(j["agents"][2]["memory_current_bytes"], kGiB);
}

TEST(Relief, ReportsKillsAndTheResult) {
  ReliefReport r{75, 96.0, 60.5, {{"big", 30 * kGiB, 0}, {"mid", 10 * kGiB, 0}}, false, true};
  EXPECT_EQ(FormatRelief(r),
            "Host memory was 96.0% used; target below 75%.\n"
            "Killed agent big (30G)\n"
            "Killed agent mid (10G)\n"
            "Host memory is now 60.5% used.\n");
  r.dry_run = true;
  EXPECT_NE(FormatRelief(r).find("Would kill agent big (30G)\n"), std::string::npos);
  EXPECT_NE(FormatRelief(r).find("Dry run: nothing was killed."), std::string::npos);
  EXPECT_EQ(ReliefToJson(r)["would_kill"][0]["name"], "big");
  ReliefReport nothing{75, 40.0, 40.0, {}, false, true};
  EXPECT_EQ(FormatRelief(nothing),
            "Host memory is 40.0% used, already below 75%; no agent was killed.\n");
}

TEST(WatchEvents, ShowJournalTextEscaped) {
  RecordedWatchEvent forged;
  forged.event.action = "kill";
  forged.event.message = "relief killed agent x\x1b[2J\nfake: all is well\xff";
  std::string text = FormatWatchEvents({forged});
  EXPECT_THAT(text, testing::EndsWith("  relief killed agent x\\e[2J\\nfake: all is well\\xff\n"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

// novad escaped the killed process's name already: shown once, not doubled.
TEST(WatchEvents, ShowNovadsEscapedProcessNamesAsTheyAre) {
  RecordedWatchEvent oom;
  oom.event.action = "oom-kill";
  oom.event.message = "OOM kill in agent a: the kernel killed process \\e[31mx\\x07 (pid 9)";
  EXPECT_THAT(FormatWatchEvents({oom}),
              testing::EndsWith("  OOM kill in agent a: the kernel killed process \\e[31mx\\x07 "
                                "(pid 9)\n"));
}

TEST(WatchFrame, ShowsAgentNamesEscaped) {
  WatchFrame f = Frame(50);
  f.agents = {{"a\x1b]0;x\x07", kGiB, 4 * kGiB}};
  std::string text = FormatWatchFrame(f, Config{});
  EXPECT_THAT(text, testing::HasSubstr("a\\e]0;x\\x07"));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  ReliefReport r{75, 96.0, 60.5, {{"b\nc", kGiB, 0}}, false, true};
  EXPECT_THAT(FormatRelief(r), testing::HasSubstr("Killed agent b\\nc (1G)\n"));
}

}  // namespace
}  // namespace nova
