#include "files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace nova {
namespace {

TEST(Files, ReadsAFileLongerThanOneReadInEitherMode) {
  std::string path = testing::TempDir() + "/files-long.txt";
  std::string text(10000, 'x');
  text += "end";
  std::ofstream(path) << text;
  std::string out;
  EXPECT_TRUE(ReadSmallFile(AT_FDCWD, path.c_str(), out, Pieces::kAny));
  EXPECT_EQ(out, text);
  EXPECT_TRUE(ReadSmallFile(AT_FDCWD, path.c_str(), out, Pieces::kOne));
  EXPECT_EQ(out, text);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  for (int round = 0; round < 2; ++round) {  // again from the start
    EXPECT_TRUE(ReadFromStart(fd, out, Pieces::kOne));
    EXPECT_EQ(out, text);
  }
  ::close(fd);
  std::filesystem::remove(path);
}

// A read shorter than asked is the end of a one-piece file: no second read
// to see it. Shown with a pipe, whose writer is still open: a one-piece
// read returns what is there; a read of any file waits for the end.
TEST(Files, AOnePieceReadEndsAtTheFirstShortRead) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_EQ(::write(pipe_fds[1], "abc", 3), 3);
  std::string path = "/proc/self/fd/" + std::to_string(pipe_fds[0]);
  std::string out;
  EXPECT_TRUE(ReadSmallFile(AT_FDCWD, path.c_str(), out, Pieces::kOne));
  EXPECT_EQ(out, "abc");
  ASSERT_EQ(::write(pipe_fds[1], "def", 3), 3);
  ::close(pipe_fds[1]);
  EXPECT_TRUE(ReadSmallFile(AT_FDCWD, path.c_str(), out, Pieces::kAny));
  EXPECT_EQ(out, "def");
  ::close(pipe_fds[0]);
}

TEST(Files, TheKernelsOnePieceFilesReadWhole) {
  std::string any, one;
  ASSERT_TRUE(ReadSmallFile(AT_FDCWD, "/proc/self/cgroup", any, Pieces::kAny));
  ASSERT_TRUE(ReadSmallFile(AT_FDCWD, "/proc/self/cgroup", one, Pieces::kOne));
  EXPECT_EQ(one, any);
  ASSERT_TRUE(ReadSmallFile(AT_FDCWD, "/proc/meminfo", one, Pieces::kOne));
  EXPECT_EQ(one.substr(0, 9), "MemTotal:");
  EXPECT_NE(one.find("\nMemAvailable:"), std::string::npos);
  EXPECT_EQ(one.back(), '\n');
}

}  // namespace
}  // namespace nova
