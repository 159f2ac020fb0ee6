#include "duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "errors.h"

namespace nova {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsSystemdStyleUnits) {
  EXPECT_EQ(ParseDuration("30m"), minutes(30));
  EXPECT_EQ(ParseDuration("30min"), minutes(30));
  EXPECT_EQ(ParseDuration("90s"), seconds(90));
  EXPECT_EQ(ParseDuration("90sec"), seconds(90));
  EXPECT_EQ(ParseDuration("90"), seconds(90));
  EXPECT_EQ(ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(ParseDuration("1h 30min"), minutes(90));
  EXPECT_EQ(ParseDuration("2d"), hours(48));
  EXPECT_EQ(ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(ParseDuration("0"), seconds(0));
}

TEST(ParseDuration, RejectsAnythingElse) {
  for (const char* bad : {"", "m", "30x", "-5s", "1.5h", "10 ", "5s5", "99999999999999999999d"}) {
    EXPECT_EQ(ParseDuration(bad), std::nullopt) << bad;
  }
}

TEST(ParseDuration, ErrorNamesTheOptionAndTheValue) {
  try {
    ParseDurationOrThrow("--timeout", "soon");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_STREQ(e.what(),
                 "--timeout \"soon\": not a duration; use e.g. 90s, 15m, 1h30m or 2d "
                 "(a bare number is seconds)");
  }
  try {
    ParseDurationOrThrow("--timeout", "1\n\x1b[2J");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), testing::StartsWith("--timeout \"1\\n\\e[2J\": not a duration"));
  }
}

TEST(FormatDuration, ShowsTheTwoLargestUnits) {
  EXPECT_EQ(FormatDuration(minutes(30)), "30min");
  EXPECT_EQ(FormatDuration(minutes(90)), "1h 30min");
  EXPECT_EQ(FormatDuration(seconds(3605)), "1h");
  EXPECT_EQ(FormatDuration(seconds(10)), "10s");
  EXPECT_EQ(FormatDuration(milliseconds(2500)), "2.5s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(hours(49)), "2d 1h");
  EXPECT_EQ(FormatDuration(Usec(0)), "0");
}

}  // namespace
}  // namespace nova
