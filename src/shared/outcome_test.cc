#include "outcome.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace nova {
namespace {

Outcome Make(std::string result, std::string code, std::string status, uint64_t ooms = 0) {
  Outcome o;
  o.agent = "a1";
  o.service_result = result;
  o.exit_code = code;
  o.exit_status = status;
  o.oom_kills = ooms;
  o.finished_at_usec = 42;
  return o;
}

TEST(Outcome, DescribesWhatHappened) {
  EXPECT_EQ(DescribeOutcome(Make("success", "exited", "0")), "exited 0");
  EXPECT_EQ(DescribeOutcome(Make("exit-code", "exited", "3")), "exited 3");
  EXPECT_EQ(DescribeOutcome(Make("signal", "killed", "KILL", 1)), "oom-killed (memory limit)");
  EXPECT_EQ(DescribeOutcome(Make("oom-kill", "killed", "KILL")), "oom-killed (memory limit)");
  EXPECT_EQ(DescribeOutcome(Make("timeout", "killed", "TERM")),
            "hard timeout (stopped at RuntimeMaxSec)");
  EXPECT_EQ(DescribeOutcome(Make("signal", "killed", "TERM")), "killed by signal TERM");
  EXPECT_EQ(DescribeOutcome(Make("success", "exited", "0", 2)),
            "exited 0; 2 process(es) oom-killed");
  EXPECT_EQ(DescribeOutcome(Make("exit-code", "exited", "203")),
            "failed to start: the command could not be executed (203/EXEC)");
  Outcome killed = Make("signal", "killed", "KILL");
  killed.killed = KillMarker{"alice", "kill --force"};
  EXPECT_EQ(DescribeOutcome(killed), "killed by alice (kill --force)");
}

TEST(Outcome, RoundTripsThroughJson) {
  Outcome o = Make("signal", "killed", "KILL", 1);
  o.killed = KillMarker{"novad", "relief"};
  Outcome back = OutcomeFromJson(OutcomeToJson(o));
  EXPECT_EQ(back.agent, "a1");
  EXPECT_EQ(back.service_result, "signal");
  EXPECT_EQ(back.exit_status, "KILL");
  EXPECT_EQ(back.oom_kills, 1u);
  EXPECT_EQ(back.finished_at_usec, 42);
  ASSERT_TRUE(back.killed);
  EXPECT_EQ(back.killed->by, "novad");
}

TEST(OutcomeStore, KeepsOutcomesAndConsumesKillMarkers) {
  auto dir =
      std::filesystem::temp_directory_path() / ("nova-outcome-test-" + std::to_string(::getpid()));
  OutcomeStore store(dir / "state", dir / "run");
  EXPECT_EQ(store.Read("a1"), std::nullopt);
  store.WriteKillMarker("a1", {"bob", "kill"});
  auto marker = store.TakeKillMarker("a1");
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->by, "bob");
  EXPECT_EQ(store.TakeKillMarker("a1"), std::nullopt);  // taken once
  store.Write(Make("success", "exited", "0"));
  ASSERT_TRUE(store.Read("a1"));
  EXPECT_EQ(store.ReadAll().size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(OutcomeStore, OwnersAndSecretsAreRootsFilesAndGoAway) {
  auto dir = std::filesystem::temp_directory_path() / "nova-owner-test";
  std::filesystem::remove_all(dir);
  OutcomeStore store((dir / "state").string(), (dir / "run").string());
  store.WriteOwner("a1", "alice");
  EXPECT_EQ(store.TakeOwner("a1"), "alice");
  EXPECT_EQ(store.TakeOwner("a1"), std::nullopt);
  auto paths = store.WriteSecrets("a1", {{"token", "s3cret\n"}});
  ASSERT_EQ(paths.size(), 1u);
  auto file = std::filesystem::path(paths["token"]);
  EXPECT_EQ(std::filesystem::status(file).permissions(), std::filesystem::perms::owner_read);
  EXPECT_EQ(std::filesystem::status(file.parent_path()).permissions(),
            std::filesystem::perms::owner_all);
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "s3cret\n");
  store.RemoveSecrets("a1");
  EXPECT_FALSE(std::filesystem::exists(file.parent_path()));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nova
