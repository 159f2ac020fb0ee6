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

}  // namespace
}  // namespace nova
