#include "oom_kills.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace nova {
namespace {

TEST(OomKills, WrittenAndReadBack) {
  std::string path = ::testing::TempDir() + "/oom-kills-" + std::to_string(getpid()) + ".json";
  OomKillsByAgent kills = {{"build", AgentOomKills{42, 2, "\\e[2Jcc1", 1234, 1700000000000000}}};
  WriteOomKills(path, kills);
  auto back = ReadOomKills(path);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->count("build"), 1u);
  EXPECT_EQ(back->at("build").cgroup_id, 42u);
  EXPECT_EQ(back->at("build").count, 2u);
  EXPECT_EQ(back->at("build").last_process, "\\e[2Jcc1");
  EXPECT_EQ(back->at("build").last_pid, 1234);
  std::filesystem::remove(path);
  EXPECT_FALSE(ReadOomKills(path));
}

TEST(OomKills, Described) {
  AgentOomKills k{1, 2, "cc1plus", 1234, 1700000000000000};
  std::string text = DescribeOomKills(k);
  EXPECT_EQ(text.substr(0, 28), "2 (last: cc1plus, pid 1234, ");
  EXPECT_EQ(DescribeOomKills(AgentOomKills{}), "0");
  // A raw control character (the file was not novad's) is escaped.
  EXPECT_EQ(DescribeOomKills(AgentOomKills{1, 1, "\x1b[2J", 5, 1}).find('\x1b'), std::string::npos);
  EXPECT_NE(DescribeOomKills(AgentOomKills{1, 1, "", 0, 1}).find("not named"), std::string::npos);
  // Counts novad found at its first look, with nothing recorded before.
  EXPECT_EQ(DescribeOomKills(AgentOomKills{1, 3, "", 0, 0}), "3 (before novad began to watch)");
}

}  // namespace
}  // namespace nova
