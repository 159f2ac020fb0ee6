#include "meminfo.h"

#include <gtest/gtest.h>

#include "errors.h"

namespace nova {
namespace {

TEST(Meminfo, UsedIsTotalMinusAvailable) {
  HostMemory m = ParseMeminfo(
      "MemTotal:       16000000 kB\n"
      "MemFree:         1000000 kB\n"
      "MemAvailable:    4000000 kB\n"
      "Shmem:           2000000 kB\n");
  EXPECT_EQ(m.total, 16000000ULL * 1024);
  EXPECT_EQ(m.available, 4000000ULL * 1024);
  EXPECT_EQ(m.used(), 12000000ULL * 1024);
  EXPECT_DOUBLE_EQ(m.used_percent(), 75.0);
}

TEST(Meminfo, MissingFieldsAreAnError) {
  EXPECT_THROW(ParseMeminfo("MemTotal: 100 kB\n"), Error);
  EXPECT_THROW(ParseMeminfo(""), Error);
}

TEST(Meminfo, ReadsThisHost) {
  HostMemory m = ReadHostMemory();
  EXPECT_GT(m.total, 0u);
  EXPECT_LE(m.available, m.total);
}

TEST(MeminfoReader, ReadsTheHostAgainEachTime) {
  MeminfoReader reader;
  HostMemory first = reader.Read();
  HostMemory second = reader.Read();
  EXPECT_GT(first.total, 0u);
  EXPECT_EQ(first.total, second.total);  // the same file, read again from its start
  EXPECT_LE(second.available, second.total);
}

TEST(Meminfo, ParsesLinesWhateverTheirSpacing) {
  HostMemory m = ParseMeminfo("MemTotal:16 kB\nJunk\nMemAvailable:      8 kB\nSwapTotal: 0 kB");
  EXPECT_EQ(m.total, 16u * 1024);
  EXPECT_EQ(m.available, 8u * 1024);
  EXPECT_EQ(m.swap_total, 0u);
}

}  // namespace
}  // namespace nova
