// What the watcher opens before it kills a victim, on a tree of folders laid
// out as a cgroup tree: a real cgroup would need a host that delegates one.
#include "watch_host.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace nova {
namespace {

namespace fs = std::filesystem;

// An agent's cgroup with CHILDREN sub-cgroups, each listing this test's own
// pid (the one process a pidfd can surely be opened for); removed at the end.
struct AgentTree {
  AgentTree(const std::string& name, int children) : root(fs::path(testing::TempDir()) / name) {
    fs::remove_all(root);
    fs::create_directories(root);
    std::ofstream(root / "cgroup.procs") << getpid() << "\n";
    for (int i = 0; i < children; ++i) {
      fs::path child = root / ("c" + std::to_string(i));
      fs::create_directories(child);
      std::ofstream(child / "cgroup.procs") << getpid() << "\n";
    }
  }
  ~AgentTree() { fs::remove_all(root); }
  fs::path root;
};

size_t OpenedAndClosed(const AgentTree& tree, size_t max_processes, size_t max_cgroups) {
  std::vector<int> pidfds = OpenPidfds(tree.root.string(), max_processes, max_cgroups);
  for (int fd : pidfds) close(fd);
  return pidfds.size();
}

TEST(OpenPidfds, TakesOneForEachProcessInTheWholeSubtree) {
  AgentTree tree("reap-small", 3);
  EXPECT_EQ(OpenedAndClosed(tree, kMaxReapedProcesses, kMaxReapedCgroups), 4u);
}

// An agent can make as many cgroups as its memory pays for, and processes as
// its TasksMax allows; what the real-time watcher walks before a kill stays
// bounded by both.
TEST(OpenPidfds, StopsAtTheBoundsAHostileAgentWouldPush) {
  AgentTree tree("reap-wide", 40);
  EXPECT_EQ(OpenedAndClosed(tree, /*max_processes=*/1000, /*max_cgroups=*/10), 10u);
  EXPECT_EQ(OpenedAndClosed(tree, /*max_processes=*/7, /*max_cgroups=*/1000), 7u);
}

TEST(OpenPidfds, AGoneCgroupGivesNothing) {
  AgentTree tree("reap-gone", 0);
  fs::remove_all(tree.root);
  EXPECT_EQ(OpenedAndClosed(tree, kMaxReapedProcesses, kMaxReapedCgroups), 0u);
}

}  // namespace
}  // namespace nova
