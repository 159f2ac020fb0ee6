#include "size.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "errors.h"

namespace nova {
namespace {

TEST(ParseSize, AcceptsSuffixesInPowersOf1024) {
  EXPECT_EQ(ParseSize("4G"), 4ULL << 30);
  EXPECT_EQ(ParseSize("4GiB"), 4ULL << 30);
  EXPECT_EQ(ParseSize("4GB"), 4ULL << 30);
  EXPECT_EQ(ParseSize("512M"), 512ULL << 20);
  EXPECT_EQ(ParseSize("512m"), 512ULL << 20);
  EXPECT_EQ(ParseSize("64K"), 64ULL << 10);
  EXPECT_EQ(ParseSize("2T"), 2ULL << 40);
  EXPECT_EQ(ParseSize("1.5G"), 3ULL << 29);
  EXPECT_EQ(ParseSize("1000"), 1000u);
  EXPECT_EQ(ParseSize("1000B"), 1000u);
  EXPECT_EQ(ParseSize("infinity"), kInfinity);
}

TEST(ParseSize, RejectsAnythingElse) {
  for (const char* bad : {"", "G", "4X", "4GG", "-1G", "4 G", "1.G", "0.5", "4Gi",
                          "99999999999999999999", "20000000000T"}) {
    EXPECT_EQ(ParseSize(bad), std::nullopt) << bad;
  }
}

TEST(ParseSize, ErrorNamesTheOptionTheValueAndTheForm) {
  try {
    ParseSizeOrThrow("--memory", "4X");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_STREQ(e.what(),
                 "--memory \"4X\": not a size; use a number with an optional K, M, G "
                 "or T suffix (powers of 1024), e.g. 4G or 512M");
  }
  try {
    ParseSizeOrThrow("--memory", "4G\r\x07");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), testing::StartsWith("--memory \"4G\\x0d\\x07\": not a size"));
  }
}

TEST(FormatSize, IsShortAndRoundTrips) {
  EXPECT_EQ(FormatSize(4ULL << 30), "4G");
  EXPECT_EQ(FormatSize(3ULL << 29), "1.5G");
  EXPECT_EQ(FormatSize(512ULL << 20), "512M");
  EXPECT_EQ(FormatSize(100), "100B");
  EXPECT_EQ(FormatSize(kInfinity), "infinity");
  EXPECT_EQ(ParseSize(FormatSize(3ULL << 29)), 3ULL << 29);
}

}  // namespace
}  // namespace nova
