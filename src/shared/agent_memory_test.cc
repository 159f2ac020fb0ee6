#include "agent_memory.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "size.h"

namespace nova {
namespace {

TEST(ReadAgentMemory, ReadsEveryAgentCgroupAndSkipsTheRest) {
  namespace fs = std::filesystem;
  fs::path slice = fs::path(testing::TempDir()) / "nova-agents.slice";
  fs::remove_all(slice);
  auto make = [&](const std::string& dir, const char* current, const char* max) {
    fs::create_directories(slice / dir);
    if (current) std::ofstream(slice / dir / "memory.current") << current << "\n";
    if (max) std::ofstream(slice / dir / "memory.max") << max << "\n";
  };
  make("nova-agent-b.service", "2048", "max");
  make("nova-agent-a.service", "1024", "4294967296");
  make("nova-agent-gone.service", nullptr, nullptr);  // vanished while being read
  make("other.service", "99", "max");
  auto agents = ReadAgentMemory(slice.string());
  ASSERT_EQ(agents.size(), 2u);
  EXPECT_EQ(agents[0].agent, "a");
  EXPECT_EQ(agents[0].current, 1024u);
  EXPECT_EQ(agents[0].max, 4294967296u);
  EXPECT_EQ(agents[1].agent, "b");
  EXPECT_EQ(agents[1].max, kInfinity);
  fs::remove_all(slice);
}

}  // namespace
}  // namespace nova
