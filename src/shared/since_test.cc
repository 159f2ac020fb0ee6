// --since as journalctl reads it, exactly; absolute times in a fixed zone.
#include "since.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "errors.h"

namespace nova {
namespace {

constexpr int64_t kS = 1000000;
// 2024-05-01 12:34:56 UTC
constexpr int64_t kNow = 1714566896 * kS;

class SinceTest : public testing::Test {
 protected:
  SinceTest() {
    const char* tz = getenv("TZ");
    if (tz) saved_ = tz;
    had_ = tz != nullptr;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  ~SinceTest() override {
    if (had_) {
      setenv("TZ", saved_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  std::string saved_;
  bool had_ = false;
};

TEST_F(SinceTest, RelativeTimes) {
  EXPECT_EQ(ParseSince("10 min ago", kNow), kNow - 600 * kS);
  EXPECT_EQ(ParseSince("10min ago", kNow), kNow - 600 * kS);
  EXPECT_EQ(ParseSince("2 hours ago", kNow), kNow - 7200 * kS);
  EXPECT_EQ(ParseSince("1h 30min ago", kNow), kNow - 5400 * kS);
  EXPECT_EQ(ParseSince("-1h", kNow), kNow - 3600 * kS);
  EXPECT_EQ(ParseSince("90s ago", kNow), kNow - 90 * kS);
  EXPECT_EQ(ParseSince("now", kNow), kNow);
}

TEST_F(SinceTest, DaysByName) {
  EXPECT_EQ(ParseSince("today", kNow), 1714521600 * kS);  // 2024-05-01 00:00 UTC
  EXPECT_EQ(ParseSince("yesterday", kNow), (1714521600 - 86400) * kS);
}

TEST_F(SinceTest, AbsoluteTimes) {
  EXPECT_EQ(ParseSince("2024-05-01 12:00", kNow), 1714564800 * kS);
  EXPECT_EQ(ParseSince("2024-05-01 12:00:30", kNow), (1714564800 + 30) * kS);
  EXPECT_EQ(ParseSince("2024-05-01T12:00:00", kNow), 1714564800 * kS);
  EXPECT_EQ(ParseSince("2024-05-01T12:00:00Z", kNow), 1714564800 * kS);
  EXPECT_EQ(ParseSince("2024-05-01", kNow), 1714521600 * kS);
  EXPECT_EQ(ParseSince("12:00", kNow), 1714564800 * kS);  // today
  EXPECT_EQ(ParseSince("@1714564800", kNow), 1714564800 * kS);
}

TEST_F(SinceTest, LocalTimeFollowsTheZone) {
  setenv("TZ", "Europe/Berlin", 1);  // CEST in May: UTC+2
  tzset();
  EXPECT_EQ(ParseSince("2024-05-01 14:00", kNow), 1714564800 * kS);
  EXPECT_EQ(ParseSince("2024-05-01T12:00:00Z", kNow), 1714564800 * kS);  // Z stays UTC
}

TEST_F(SinceTest, WhatIsNotATime) {
  for (const char* bad :
       {"", "   ", "soon", "10 ago", "ago", "10 parsecs ago", "-", "@", "@-5", "@12x", "2024-13-01",
        "2024-05-01 25:00", "12:00Z", "10 min ago; rm", "\x1b[2J"}) {
    EXPECT_EQ(ParseSince(bad, kNow), std::nullopt) << bad;
  }
}

TEST_F(SinceTest, TheErrorIsOneLineNamingTheFormats) {
  try {
    ParseSinceOrThrow("--since", "soon\n", kNow);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_STREQ(e.what(),
                 "--since \"soon\\n\": not a time; use e.g. \"10 min ago\", -1h, \"2024-05-01 "
                 "12:00\", 2024-05-01T12:00:00Z, 12:00, today, yesterday or @SECONDS");
  }
}

}  // namespace
}  // namespace nova
