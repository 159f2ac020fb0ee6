#include "sandbox.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace nova {
namespace {

TEST(SandboxProfile, ParsesTheThreeNamesOnly) {
  EXPECT_EQ(ParseSandboxProfile("none"), SandboxProfile::kNone);
  EXPECT_EQ(ParseSandboxProfile("standard"), SandboxProfile::kStandard);
  EXPECT_EQ(ParseSandboxProfile("strict"), SandboxProfile::kStrict);
  for (const char* bad : {"", "Standard", "yes", "strict ", "off", "default"}) {
    EXPECT_FALSE(ParseSandboxProfile(bad)) << bad;
  }
  EXPECT_STREQ(SandboxProfileName(SandboxProfile::kStrict), "strict");
}

TEST(SandboxProfile, OrderedFromWeakest) {
  EXPECT_TRUE(WeakerThan(SandboxProfile::kNone, SandboxProfile::kStandard));
  EXPECT_TRUE(WeakerThan(SandboxProfile::kStandard, SandboxProfile::kStrict));
  EXPECT_FALSE(WeakerThan(SandboxProfile::kStrict, SandboxProfile::kStrict));
}

TEST(AllowIp, AddressesAndPrefixes) {
  auto v4 = ParseAllowIp("10.1.2.3/8");
  ASSERT_TRUE(v4);
  ASSERT_EQ(v4->size(), 1u);
  EXPECT_EQ((*v4)[0], (IpPrefix{AF_INET, {10, 0, 0, 0}, 8}));  // host bits cleared
  EXPECT_EQ(FormatIpPrefix((*v4)[0]), "10.0.0.0/8");

  auto host = ParseAllowIp("127.0.0.1");
  ASSERT_TRUE(host);
  EXPECT_EQ(FormatIpPrefix((*host)[0]), "127.0.0.1/32");

  auto v6 = ParseAllowIp("2001:db8::1/32");
  ASSERT_TRUE(v6);
  EXPECT_EQ(FormatIpPrefix((*v6)[0]), "2001:db8::/32");

  auto local = ParseAllowIp("localhost");
  ASSERT_TRUE(local);
  ASSERT_EQ(local->size(), 2u);
  EXPECT_EQ(FormatIpPrefix((*local)[0]), "127.0.0.0/8");
  EXPECT_EQ(FormatIpPrefix((*local)[1]), "::1/128");
}

TEST(AllowIp, RefusesEverythingElse) {
  for (const char* bad : {"", "any", "example.com", "10.0.0.0/33", "::1/129", "10.0.0.0/",
                          "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/ 8", " 10.0.0.1", "1.2.3",
                          "10.0.0.1\n", "0x7f.1", "127.0.0.1/8x"}) {
    EXPECT_FALSE(ParseAllowIp(bad)) << bad;
  }
}

}  // namespace
}  // namespace nova
