#include "host_setup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "errors.h"
#include "host_facts_for_tests.h"

namespace nova {
namespace {

TEST(HostChecks, AReadyHostIsAllOk) {
  for (const auto& c : HostChecks(ReadyHost(), SetupOptions{})) {
    EXPECT_EQ(c.status, Check::kOk) << c.name << ": " << c.detail;
  }
}

TEST(HostChecks, SaysWhatIsMissingAndHowToFixIt) {
  HostFacts f = ReadyHost();
  f.cgroup2 = false;
  f.subtree_controllers = {"pids"};
  f.sysctls["kernel.pid_max"] = 32768;
  f.scratch_mounted = false;
  f.pool = PoolFacts{};
  auto checks = HostChecks(f, SetupOptions{});
  EXPECT_EQ(Find(checks, "cgroup v2").status, Check::kFail);
  EXPECT_EQ(Find(checks, "memory controller").status, Check::kFail);
  EXPECT_EQ(Find(checks, "pids controller").status, Check::kOk);
  EXPECT_EQ(Find(checks, "kernel.pid_max").detail, "32768, below 4194304");
  EXPECT_EQ(Find(checks, "kernel.pid_max").fix, "novactl setup-host --sysctl");
  EXPECT_EQ(Find(checks, "scratch tmpfs").fix, "novactl setup-host --scratch");
  EXPECT_EQ(Find(checks, "workspace pool").detail, "not set up");
  EXPECT_EQ(Find(checks, "workspace pool").fix, "novactl setup-host --workspaces");
}

TEST(HostChecks, AReadyPoolIsRootNovaStickyAndEverySlotItsMakers) {
  auto checks = HostChecks(ReadyHost(), SetupOptions{});
  const Check& pool = Find(checks, "workspace pool");
  EXPECT_EQ(pool.status, Check::kOk);
  EXPECT_EQ(pool.detail, "root:nova 1770, 3 slot(s), each writable by its maker");
}

TEST(HostChecks, APoolOrSlotsEveryMemberMayWriteAreReported) {
  HostFacts f = ReadyHost();
  f.pool.mode = 02775;  // what setup-host made before
  for (int i = 1; i <= 500; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "ws-%03d", i);
    f.pool.shared_slots.push_back(name);
  }
  auto checks = HostChecks(f, SetupOptions{});
  const Check& pool = Find(checks, "workspace pool");
  EXPECT_EQ(pool.status, Check::kWarn);
  EXPECT_EQ(pool.detail,
            "root:nova 2775, not root:nova 1770; 500 slot(s) other members may "
            "write (ws-001, ws-002, ws-003, ...)");
  EXPECT_EQ(pool.fix, "novactl setup-host --workspaces");

  f = ReadyHost();
  f.pool.shared_slots = {"\x1b]0;owned\x07"};  // members name their slots
  EXPECT_EQ(Find(HostChecks(f, SetupOptions{}), "workspace pool").detail,
            "root:nova 1770; 1 slot(s) other members may write (\\e]0;owned\\x07)");

  f = ReadyHost();
  f.pool.uid = 1000;
  f.pool.owner = "alice:nova";
  EXPECT_EQ(Find(HostChecks(f, SetupOptions{}), "workspace pool").detail,
            "alice:nova 1770, not root:nova 1770");
}

TEST(HostChecks, SwapIsExplainedNotRefused) {
  HostFacts f = ReadyHost();
  f.swap_total = 2ULL << 30;
  auto checks = HostChecks(f, SetupOptions{});
  const Check& swap = Find(checks, "swap");
  EXPECT_EQ(swap.status, Check::kOk);
  EXPECT_THAT(swap.detail, testing::HasSubstr("2G on the host: agents get none (MemorySwapMax=0)"));
}

TEST(PlanSetup, DoesOnlyWhatWasAskedAndOnlyWhatIsMissing) {
  HostFacts f = ReadyHost();
  f.sysctls["kernel.pid_max"] = 32768;
  f.sysctls["fs.nr_open"] = 2000000;  // above the target: never lowered
  f.scratch_mounted = false;
  f.pool.mode = 0775;
  SetupPaths paths;
  EXPECT_TRUE(PlanSetup(f, SetupOptions{}, paths).empty());

  SetupOptions all;
  all.sysctl = all.scratch = all.workspaces = true;
  auto steps = PlanSetup(f, all, paths);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].description,
            "raise kernel.pid_max=4194304 in /etc/sysctl.d/60-nova.conf and apply it");
  EXPECT_THAT(steps[1].description, testing::HasSubstr("/var/nova-agents/scratch"));
  EXPECT_EQ(steps[2].description,
            "make /var/nova-agents/pool root:nova, mode 1770: members of group nova make their "
            "own slots there, which no other member may write in, rename or remove");
}

TEST(PlanSetup, RestrictsPtraceToAncestorsButNeverLoosensIt) {
  HostFacts f = ReadyHost();
  f.sysctls["kernel.yama.ptrace_scope"] = 0;
  EXPECT_EQ(Find(HostChecks(f, SetupOptions{}), "kernel.yama.ptrace_scope").detail, "0, below 1");
  SetupOptions o;
  o.sysctl = true;
  auto steps = PlanSetup(f, o, SetupPaths{});
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].description,
            "raise kernel.yama.ptrace_scope=1 in /etc/sysctl.d/60-nova.conf and apply it");
  f.sysctls["kernel.yama.ptrace_scope"] = 2;  // admin-only tracing: stricter, kept
  EXPECT_TRUE(PlanSetup(f, o, SetupPaths{}).empty());
}

TEST(PlanSetup, TakesWriteAwayFromSlotsEveryMemberMayWrite) {
  HostFacts f = ReadyHost();
  f.pool.shared_slots = {"ws-001", "ws-002"};
  SetupOptions o;
  o.workspaces = true;
  auto steps = PlanSetup(f, o, SetupPaths{});
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].description,
            "take write permission for group and others from 2 slot(s) in "
            "/var/nova-agents/pool that other members could write (ws-001, ws-002); "
            "what is in them stays");
}

// On real folders: what ReadHostFacts finds in a pool, and what the repair
// changes, never through a symlink a member left there.
TEST(PlanSetup, RepairsSharedSlotsInPlaceAndNeverFollowsASymlink) {
  namespace fs = std::filesystem;
  SetupPaths paths;
  paths.agents_root = (fs::path(testing::TempDir()) / "nova-agents-test").string();
  fs::remove_all(paths.agents_root);
  fs::path pool = paths.pool();
  fs::path elsewhere = fs::path(paths.agents_root) / "elsewhere";
  fs::create_directories(pool);
  auto folder = [](const fs::path& path, mode_t mode) {
    fs::create_directories(path);
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  };
  folder(pool / "private", 0700);
  folder(pool / "open", 02777);
  std::ofstream(pool / "open" / "work") << "kept\n";
  folder(elsewhere, 0777);
  fs::create_directory_symlink(elsewhere, pool / "link");
  std::ofstream(pool / "file") << "not a slot\n";

  HostFacts f = ReadHostFacts(paths);
  EXPECT_TRUE(f.pool.folder);
  EXPECT_EQ(f.pool.slots, 2);
  EXPECT_EQ(f.pool.shared_slots, std::vector<std::string>{"open"});

  SetupOptions o;
  o.workspaces = true;
  auto steps = PlanSetup(f, o, paths);
  ASSERT_FALSE(steps.empty());
  steps.back().apply();  // the slots' step; the pool's needs root and group nova
  auto mode = [](const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  };
  EXPECT_EQ(mode(pool / "open"), 02755u);
  EXPECT_EQ(mode(pool / "private"), 0700u);
  EXPECT_EQ(mode(elsewhere), 0777u);
  EXPECT_TRUE(fs::exists(pool / "open" / "work"));
  fs::remove_all(paths.agents_root);
}

TEST(PlanSetup, MakesThePoolRootNovaSticky) {
  if (geteuid() != 0) GTEST_SKIP() << "chown to root needs root";
  namespace fs = std::filesystem;
  SetupPaths paths;
  paths.agents_root = (fs::path(testing::TempDir()) / "nova-agents-pool-test").string();
  fs::remove_all(paths.agents_root);
  HostFacts f = ReadHostFacts(paths);
  EXPECT_FALSE(f.pool.present);
  f.nova_gid = 4242;  // any group will do for the test
  SetupOptions o;
  o.workspaces = true;
  auto steps = PlanSetup(f, o, paths);
  ASSERT_EQ(steps.size(), 1u);
  steps[0].apply();
  struct stat st {};
  ASSERT_EQ(lstat(paths.pool().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 4242u);
  EXPECT_EQ(st.st_mode & 07777, 01770u);
  HostFacts again = ReadHostFacts(paths);
  again.nova_gid = 4242;
  EXPECT_TRUE(PlanSetup(again, o, paths).empty());

  // Group write is someone else's only in a group that is not the owner's own.
  for (const char* slot : {"own-group", "team-group"}) {
    fs::path dir = fs::path(paths.pool()) / slot;
    fs::create_directory(dir);
    ASSERT_EQ(chown(dir.c_str(), 0, std::string(slot) == "own-group" ? 0 : 4242), 0);
    ASSERT_EQ(chmod(dir.c_str(), 0770), 0);
  }
  again = ReadHostFacts(paths);
  EXPECT_EQ(again.pool.slots, 2);
  EXPECT_EQ(again.pool.shared_slots, std::vector<std::string>{"team-group"});

  // A symlink where the pool should be is refused, not followed.
  fs::remove_all(paths.pool());
  fs::create_directory_symlink(testing::TempDir(), paths.pool());
  f = ReadHostFacts(paths);
  f.nova_gid = 4242;
  steps = PlanSetup(f, o, paths);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_THROW(steps[0].apply(), Error);
  fs::remove_all(paths.agents_root);
}

TEST(PlanSetup, ASecondRunFindsNothingToDo) {
  SetupOptions all;
  all.sysctl = all.scratch = all.workspaces = true;
  EXPECT_TRUE(PlanSetup(ReadyHost(), all, SetupPaths{}).empty());
}

TEST(MountUnitName, EscapesLikeSystemd) {
  EXPECT_EQ(MountUnitName("/var/nova-agents/scratch"), "var-nova\\x2dagents-scratch.mount");
  EXPECT_EQ(MountUnitName("/srv/a_b/"), "srv-a_b.mount");
}

}  // namespace
}  // namespace nova
