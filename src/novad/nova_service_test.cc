// Spawn's options as they travel: what novactl encodes is what novad decodes,
// the sandbox choice included, and a value of the wrong D-Bus type is refused.
// Who called: the bus's credentials, refused when they do not name the caller.
#include "nova_service.h"

#include <gtest/gtest.h>

#include "errors.h"
#include "nova_client.h"

namespace nova {
namespace {

TEST(EncodeSpawnOptions, SandboxAndAllowIpTravelOverTheBus) {
  SpawnRequest request;
  request.name = "agent-001";
  request.argv = {"/bin/true"};
  request.workdir = "/srv/ws";
  request.sandbox = "strict";
  request.allow_ip = {"127.0.0.1", "10.0.0.0/8"};
  auto options = EncodeSpawnOptions(request);
  EXPECT_EQ(options.at(spawn_option::kSandbox).peekValueType(), std::string("s"));
  EXPECT_EQ(options.at(spawn_option::kAllowIP).peekValueType(), std::string("as"));
  SpawnRequest decoded = SpawnRequestFromOptions(request.name, request.argv, options);
  EXPECT_EQ(decoded.sandbox, std::optional<std::string>("strict"));
  EXPECT_EQ(decoded.allow_ip, request.allow_ip);
  EXPECT_EQ(decoded.workdir, "/srv/ws");
}

TEST(EncodeSpawnOptions, NoSandboxGivenLeavesTheDefaultToNovad) {
  SpawnRequest request;
  request.workdir = "/srv/ws";
  auto options = EncodeSpawnOptions(request);
  EXPECT_FALSE(options.count(spawn_option::kSandbox));
  EXPECT_FALSE(options.count(spawn_option::kAllowIP));
  SpawnRequest decoded = SpawnRequestFromOptions("a", {"/bin/true"}, options);
  EXPECT_FALSE(decoded.sandbox);
  EXPECT_TRUE(decoded.allow_ip.empty());
}

TEST(EncodeSpawnOptions, WrongTypeIsRefused) {
  std::map<std::string, sdbus::Variant> options;
  options[spawn_option::kSandbox] = sdbus::Variant(uint64_t{0});
  try {
    SpawnRequestFromOptions("a", {"/bin/true"}, options);
    FAIL() << "accepted a number as the profile";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_STREQ(e.what(), "option Sandbox has D-Bus type t, expected s");
  }
}

TEST(CallerCredsFromBus, ReadsTheUidAndPidTheBusTook) {
  std::map<std::string, sdbus::Variant> credentials{
      {"UnixUserID", sdbus::Variant(uint32_t{1001})},
      {"ProcessID", sdbus::Variant(uint32_t{4242})},
      {"UnixGroupIDs", sdbus::Variant(std::vector<uint32_t>{1001, 27})}};
  CallerCreds creds = CallerCredsFromBus(credentials);
  EXPECT_EQ(creds.uid, 1001u);
  EXPECT_EQ(creds.pid, 4242u);
}

TEST(CallerCredsFromBus, RefusesACallerItCannotName) {
  // Root's uid is 0: a missing uid must never read as root.
  std::map<std::string, sdbus::Variant> no_uid{{"ProcessID", sdbus::Variant(uint32_t{4242})}};
  try {
    CallerCredsFromBus(no_uid);
    FAIL() << "no uid was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kPermissionDenied);
    EXPECT_NE(std::string(e.what()).find("UnixUserID"), std::string::npos) << e.what();
  }
  std::map<std::string, sdbus::Variant> no_pid{{"UnixUserID", sdbus::Variant(uint32_t{0})}};
  EXPECT_THROW(CallerCredsFromBus(no_pid), Error);
  std::map<std::string, sdbus::Variant> wrong_type{{"UnixUserID", sdbus::Variant(std::string("0"))},
                                                   {"ProcessID", sdbus::Variant(uint32_t{4242})}};
  EXPECT_THROW(CallerCredsFromBus(wrong_type), Error);
}

}  // namespace
}  // namespace nova
