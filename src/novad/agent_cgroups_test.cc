#include "agent_cgroups.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace nova {
namespace {
namespace fs = std::filesystem;

class AgentCgroupsTest : public testing::Test {
 protected:
  void SetUp() override {
    // One directory per test: ctest runs the tests in parallel processes.
    slice_ = fs::path(testing::TempDir()) /
             (std::string("cgroups-") +
              testing::UnitTest::GetInstance()->current_test_info()->name() + ".slice");
    fs::remove_all(slice_);
    fs::create_directories(slice_);
  }
  void TearDown() override { fs::remove_all(slice_); }

  // Writes in place (same inode), as cgroupfs files change under a reader.
  void Write(const std::string& agent, const std::string& file, const std::string& text) {
    fs::create_directories(slice_ / agent);
    std::ofstream(slice_ / agent / file, std::ios::trunc) << text;
  }
  // Each directory's FILE as a pass reads it.
  std::map<std::string, std::string> Pass(AgentCgroups& cgroups, size_t file = 0) {
    std::map<std::string, std::string> seen;
    cgroups.ForEach([&](const AgentCgroups::Entry& e) {
      std::string text;
      seen[e.dir_name()] = e.Read(file, text) ? text : "(unreadable)";
    });
    return seen;
  }
  fs::path slice_;
};

TEST_F(AgentCgroupsTest, ReadsEachFileAgainAndSeesItChange) {
  Write("a.service", "memory.current", "100\n");
  Write("a.service", "pids.current", "3\n");
  Write("b.service", "memory.current", "200\n");
  AgentCgroups cgroups({"memory.current", "pids.current"}, slice_.string());
  using Seen = std::map<std::string, std::string>;
  EXPECT_EQ(Pass(cgroups), (Seen{{"a.service", "100\n"}, {"b.service", "200\n"}}));
  EXPECT_EQ(cgroups.cached(), 2u);
  Write("a.service", "memory.current", "150\n");
  EXPECT_EQ(Pass(cgroups), (Seen{{"a.service", "150\n"}, {"b.service", "200\n"}}));
  EXPECT_EQ(Pass(cgroups, 1), (Seen{{"a.service", "3\n"}, {"b.service", "(unreadable)"}}));
}

TEST_F(AgentCgroupsTest, FollowsAgentsThatGoAndComeBackUnderTheSameName) {
  Write("a.service", "memory.current", "100\n");
  Write("b.service", "memory.current", "200\n");
  AgentCgroups cgroups({"memory.current"}, slice_.string());
  Pass(cgroups);
  fs::remove_all(slice_ / "b.service");
  using Seen = std::map<std::string, std::string>;
  EXPECT_EQ(Pass(cgroups), (Seen{{"a.service", "100\n"}}));
  EXPECT_EQ(cgroups.cached(), 1u);  // b's file was closed
  // a spawned again: a new directory (another inode), its own file.
  fs::rename(slice_ / "a.service", slice_ / "old");
  Write("a.service", "memory.current", "7\n");
  fs::remove_all(slice_ / "old");
  EXPECT_EQ(Pass(cgroups), (Seen{{"a.service", "7\n"}}));
}

TEST_F(AgentCgroupsTest, TheSliceMadeAnewIsOpenedAgain) {
  Write("a.service", "memory.current", "100\n");
  AgentCgroups cgroups({"memory.current"}, slice_.string());
  Pass(cgroups);
  fs::remove_all(slice_);
  bool visited = false;
  EXPECT_FALSE(cgroups.ForEach([&](const AgentCgroups::Entry&) { visited = true; }));
  EXPECT_FALSE(visited);
  EXPECT_EQ(cgroups.cached(), 0u);
  Write("c.service", "memory.current", "300\n");
  using Seen = std::map<std::string, std::string>;
  EXPECT_EQ(Pass(cgroups), (Seen{{"c.service", "300\n"}}));
}

TEST_F(AgentCgroupsTest, AgentsBeyondTheCacheAreStillRead) {
  for (const char* a : {"a.service", "b.service", "c.service"}) Write(a, "memory.current", "1\n");
  AgentCgroups cgroups({"memory.current"}, slice_.string(), 1);
  using Seen = std::map<std::string, std::string>;
  Seen all{{"a.service", "1\n"}, {"b.service", "1\n"}, {"c.service", "1\n"}};
  EXPECT_EQ(Pass(cgroups), all);
  EXPECT_EQ(cgroups.cached(), 1u);
  Write("c.service", "memory.current", "2\n");
  all["c.service"] = "2\n";
  EXPECT_EQ(Pass(cgroups), all);
}

TEST_F(AgentCgroupsTest, FilesAreNotDirectoriesAndLinksAreNotFollowed) {
  Write("a.service", "memory.current", "1\n");
  std::ofstream(slice_ / "memory.current") << "slice's own\n";
  fs::create_directory_symlink(slice_ / "a.service", slice_ / "link.service");
  AgentCgroups cgroups({"memory.current"}, slice_.string());
  using Seen = std::map<std::string, std::string>;
  EXPECT_EQ(Pass(cgroups), (Seen{{"a.service", "1\n"}}));
}

TEST_F(AgentCgroupsTest, MemoryMaxIsBytesOrUnlimitedAndNothingWhenGone) {
  Write("nova-agent-a.service", "memory.max", "268435456\n");
  Write("nova-agent-b.service", "memory.max", "max\n");
  EXPECT_EQ(MemoryMaxOf((slice_ / "nova-agent-a.service").string()), 268435456u);
  EXPECT_EQ(MemoryMaxOf((slice_ / "nova-agent-b.service").string()), UINT64_MAX);
  EXPECT_EQ(MemoryMaxOf((slice_ / "nova-agent-gone.service").string()), std::nullopt);
}

TEST_F(AgentCgroupsTest, ACgroupIsDelegatedToTheUserItWasHandedTo) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  Write("nova-agent-a.service", "memory.max", "max\n");
  Write("nova-agent-b.service", "memory.max", "max\n");
  auto a = slice_ / "nova-agent-a.service";
  auto b = slice_ / "nova-agent-b.service";
  ASSERT_EQ(::chown(a.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chown(b.c_str(), 0, 0), 0);
  EXPECT_EQ(DelegatedTo(a.string()), 65534u);
  EXPECT_EQ(DelegatedTo(b.string()), std::nullopt);  // not handed over yet, or User=root
  EXPECT_EQ(DelegatedTo((slice_ / "nova-agent-gone.service").string()), std::nullopt);
}

}  // namespace
}  // namespace nova
