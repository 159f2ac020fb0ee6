#include "security_exposure.h"

#include <gtest/gtest.h>

namespace nova {
namespace {

TEST(SecurityExposure, ReadsTheOverallLine) {
  // systemd 252's text, its last lines.
  EXPECT_EQ(ParseSecurityExposure(
                "✗ UMask=   Files created by service are world-readable by default   0.1\n"
                "\n"
                "→ Overall exposure level for nova-agent-a.service: 9.2 UNSAFE 😨\n"),
            9.2);
  EXPECT_EQ(ParseSecurityExposure("→ Overall exposure level for x.service: 2.1 OK 🙂\n"), 2.1);
  EXPECT_EQ(ParseSecurityExposure("-> Overall exposure level for x.service: 0.0 SAFE :-)"), 0.0);
}

TEST(SecurityExposure, NothingWithoutTheLine) {
  EXPECT_FALSE(ParseSecurityExposure(""));
  EXPECT_FALSE(ParseSecurityExposure("Failed to connect to bus: No such file or directory\n"));
  EXPECT_FALSE(ParseSecurityExposure("→ Overall exposure level for x.service: high\n"));
  EXPECT_FALSE(ParseSecurityExposure("→ Overall exposure level for x.service\n: 1.0"));
  EXPECT_FALSE(ParseSecurityExposure("→ Overall exposure level for x.service: 11.0 ?\n"));
}

}  // namespace
}  // namespace nova
